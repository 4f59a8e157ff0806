// Package clienttest proves the SQL surface with real clients against
// in-process chr2sql nodes (server.Start on loopback ports): psql's
// meta-commands against PostgreSQL 15's own output, pgbench's initialise
// and run, and pgx for advisory locks taken through a follower. It holds
// tests only.
//
// Contract of the tests:
//
//  1. Every node is started in the test process with its own data
//     directory and free loopback ports; waiting is polling with deadlines.
//  2. psql output is compared byte for byte with testdata/*.out, which is
//     what psql 15 prints against PostgreSQL 15 for testdata/schema.sql
//     (regenerate with -update only against a real PostgreSQL, see
//     psql_test.go).
//  3. A test skips only when its tool (psql, pgbench) is not installed.
package clienttest
