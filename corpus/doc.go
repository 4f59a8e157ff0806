// Package corpus runs a PostgreSQL-regression-style corpus of SQL
// statements on PostgreSQL 15 and on chr2sql and compares the results
// statement by statement. The share of statements whose results match is
// chr2sql's compatibility figure, published in docs/compat.md by
// `go run ./corpus/cmd/compare -report docs/compat.md`.
//
// Layout: sql/NN_topic.sql holds the statements, split with PostgreSQL's own
// scanner (pg_query); each file runs in order in a fresh database on each
// server (a new database on PostgreSQL, a new single-node chr2sql), so a
// file's statements may build on each other and files are independent.
//
// A statement's result is what a client sees over the simple query
// protocol: the error's SQLSTATE, or the column names, column type OIDs,
// rows as text and the command tag. Two results match when
//
//  1. both failed with the same SQLSTATE (messages are reported, not
//     compared), or
//  2. both succeeded with equal column names, type OIDs (two OIDs assigned
//     at run time, from 16384 on, such as a user enum's, count as equal),
//     command tags and rows; rows are compared in order when the statement has a top-level
//     ORDER BY and as a multiset otherwise (without ORDER BY PostgreSQL does
//     not define an order either).
//
// Every session starts with TimeZone=UTC and DateStyle=ISO, MDY on both
// servers. Statements whose results depend on the server itself (version
// strings, process ids, random values) are written so that the compared
// result is stable (for example `version() LIKE 'PostgreSQL %'`).
//
// The pure parts (splitting, ORDER BY detection, comparison, the report)
// take values and return values; Run and the server starters do the I/O.
package corpus
