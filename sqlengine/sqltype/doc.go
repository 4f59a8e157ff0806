// Package sqltype maps declared PostgreSQL types onto SQLite storage and back.
//
// SQLite stores five kinds of value; chr2sql keeps every PostgreSQL value in
// one canonical storage form so that comparison, ordering and indexes in
// SQLite agree with PostgreSQL's for the same type:
//
//	PostgreSQL type                     SQLite storage (STRICT column type)
//	bool                                INTEGER 0 / 1
//	int2, int4, int8, oid               INTEGER
//	float4, float8                      REAL
//	numeric                             TEXT, canonical decimal ("12.50" keeps its scale)
//	text, varchar, bpchar, name, char   TEXT
//	bytea                               BLOB
//	uuid                                TEXT, lower-case 8-4-4-4-12
//	json                                TEXT as written; jsonb TEXT normalised
//	timestamptz                         TEXT "YYYY-MM-DD HH:MM:SS.ffffff" in UTC
//	timestamp                           TEXT "YYYY-MM-DD HH:MM:SS.ffffff" wall clock
//	date                                TEXT "YYYY-MM-DD"
//	time                                TEXT "HH:MM:SS.ffffff"
//	interval                            TEXT, PostgreSQL's output form
//	arrays                              TEXT, PostgreSQL's array literal
//
// The fixed-width timestamp form makes lexical order equal time order, so
// SQLite's ordinary TEXT comparison and indexes are correct for timestamps.
//
// Contract:
//  1. ToStorage(oid, v) accepts a value of the pgval value model (or a string
//     in PostgreSQL input syntax) and returns the canonical storage value, or
//     a *pgerr.Error with PostgreSQL's SQLSTATE.
//  2. FromStorage(oid, s) is the inverse for every value ToStorage produces;
//     it also accepts what SQLite expressions yield for that type (an INTEGER
//     for a bool expression, a REAL for a float expression).
//  3. Both are deterministic: the same input gives the same output on every
//     node, so they may be used while executing replicated entries.
package sqltype
