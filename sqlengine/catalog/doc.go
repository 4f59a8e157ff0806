// Package catalog is chr2sql's record of what users declared in PostgreSQL
// terms — schemas, tables, columns with their PostgreSQL types, defaults,
// indexes, constraints and sequences — kept in ordinary SQLite tables inside
// the state database, so it is replicated and snapshotted with the data.
//
// SQLite has no schemas. A relation's SQLite name is its PostgreSQL name for
// the public schema and "<schema>.<name>" (one quoted identifier) otherwise;
// all schemas live in one database file so a transaction spanning them stays
// atomic.
//
// Invariants:
//  1. Meta tables (prefix _chr2_) are created by Bootstrap, identically on
//     every node, before the first log entry is applied; their layout is
//     versioned by FormatVersion.
//  2. Every change to the meta tables is made by SQL that travels in the log
//     (DDL translated on the leader), so all nodes hold the same catalog at
//     the same index. OIDs are allocated from _chr2_meta.next_oid by that SQL.
//  3. schema_version in _chr2_meta increases with every DDL; a Catalog value
//     is an immutable snapshot of one schema_version.
package catalog
