// Package clients holds issue 6's real-client acceptance tests: every
// client a user is likely to point at chr2sql must work with nothing changed
// but the connection string. The package has no production code; its tests
// run the real chr2sql binary as a separate process (built once per test
// binary) and drive it with the real clients:
//
//   - psql: golden-output scripts under testdata/psql (*.sql → *.out);
//   - pgx v5: extended protocol, binary formats, named statements and the
//     statement cache, batches and pipelining, CopyFrom, cancel requests;
//   - lib/pq through database/sql;
//   - GORM (AutoMigrate twice, associations, Preload, transactions),
//     golang-migrate (advisory lock, schema_migrations, up/down) and goose
//     (goose_db_version);
//   - pgbench (-i and the built-in scripts, zero failed transactions);
//   - node-postgres (e2e/clients/node, run with node --test) and psycopg2 /
//     SQLAlchemy (e2e/clients/python, run with Debian's /usr/bin/python3):
//     Debian 12's SQLAlchemy 1.4, and SQLAlchemy 2.0 from Debian 13 when
//     CHR2_SQLALCHEMY2_PATH names it (.ci/run does).
//
// Contract of the tests:
//
//  1. Each test starts its own single-node chr2sql on free loopback ports and
//     a fresh data directory, and waits for GET /readyz with a deadline.
//  2. Every assertion states PostgreSQL's behaviour; where chr2sql differs
//     the test fails (it is never skipped) and the failure names the SQL.
//  3. A test skips only when its external tool (psql, pgbench, node, npm,
//     python3 with psycopg2/SQLAlchemy) is not installed; .ci/run installs
//     them all.
//  4. Waiting is done by polling with a deadline, never by a bare sleep.
//
// Golden files are regenerated with `go test ./e2e/clients -run TestPsql
// -update` and must then be reviewed by hand against PostgreSQL 15's output
// (the `-golden-pg` flag runs the same scripts on a local PostgreSQL for that
// comparison).
package clients
