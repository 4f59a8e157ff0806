// Package pgval is the value model shared by pgwire and sqlengine: the
// PostgreSQL type OIDs chr2sql reports, the Go representation of a value of
// each type, and PostgreSQL's text format for them.
//
// # Value model
//
// A value crossing the pgwire ↔ sqlengine boundary is one of these Go types,
// chosen by the column's or parameter's type OID:
//
//	nil                       SQL NULL, any type
//	int64                     int2, int4, int8, oid, regclass, regproc, xid, cid
//	float64                   float4, float8
//	bool                      bool
//	string                    text, varchar, bpchar, name, char, json, jsonb,
//	                          uuid (canonical lower-case form), numeric (decimal
//	                          text, "NaN", "Infinity", "-Infinity"), interval
//	                          and time (PostgreSQL text form), unknown
//	[]byte                    bytea
//	time.Time                 timestamptz (an instant), timestamp (wall clock,
//	                          carried in UTC), date (midnight UTC)
//	[]any                     one-dimensional arrays of the element types above
//
// Contract:
//  1. Format(oid, v, loc) produces exactly PostgreSQL 16's text output for v
//     with DateStyle ISO, IntervalStyle postgres, bytea_output hex,
//     extra_float_digits 1 and TimeZone loc.
//  2. Parse(oid, text, loc) accepts what PostgreSQL's input functions accept
//     for the common forms and returns a *pgerr.Error with the SQLSTATE
//     PostgreSQL would use (22P02, 22007, 22008, 22003, …) otherwise.
//  3. Neither function panics on any input (both are fuzzed).
package pgval
