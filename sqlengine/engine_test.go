package sqlengine

import (
	"testing"

	"github.com/chr2sql/chr2sql/pgerr"
)

func TestSkeletonStatements(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL, n int, b boolean DEFAULT false,
		at timestamptz DEFAULT now(), doc jsonb, big bigint, name varchar(5))`)
	r := must(t, s, `INSERT INTO t (v) VALUES ('a') RETURNING id`)
	if r.tag != "INSERT 0 1" || rowsText(r.rows) != "1" || r.cols[0] != "id" {
		t.Fatalf("insert returning: %+v", r)
	}
	must(t, s, `INSERT INTO t (v, n, b, doc, big) VALUES ('b', 2, true, '{"x": 1}', 9000000000), ('c', 3, false, NULL, NULL)`)
	r = must(t, s, `SELECT id, v, n, b, doc, big FROM t ORDER BY id`)
	want := "1|a|NULL|f|NULL|NULL\n2|b|2|t|{\"x\": 1}|9000000000\n3|c|3|f|NULL|NULL"
	if got := rowsText(r.rows); got != want || r.tag != "SELECT 3" {
		t.Fatalf("select:\n%s\nwant:\n%s (tag %s)", got, want, r.tag)
	}
	r = must(t, s, `SELECT count(*), sum(n), string_agg(v, ',' ORDER BY v DESC) FROM t WHERE id > 1`)
	if got := rowsText(r.rows); got != "2|5|c,b" {
		t.Fatalf("aggregates: %s", got)
	}
	r = must(t, s, `UPDATE t SET n = n + 10 WHERE v = 'b'`)
	if r.tag != "UPDATE 1" {
		t.Fatalf("update tag %q", r.tag)
	}
	r = must(t, s, `DELETE FROM t WHERE v = 'c'`)
	if r.tag != "DELETE 1" {
		t.Fatalf("delete tag %q", r.tag)
	}
	must(t, s, `CREATE TABLE u (id int PRIMARY KEY, t_id int REFERENCES t(id), label text)`)
	must(t, s, `INSERT INTO u VALUES (1, 1, 'one'), (2, 2, 'two')`)
	r = must(t, s, `SELECT t.v, u.label FROM t JOIN u ON u.t_id = t.id WHERE t.n IS NOT NULL LIMIT 5`)
	if got := rowsText(r.rows); got != "b|two" {
		t.Fatalf("join: %s", got)
	}
	c.waitConverged(t)
}

func TestErrorsHaveSQLSTATEs(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY, v varchar(3) NOT NULL)`)
	must(t, s, `INSERT INTO t VALUES (1, 'abc')`)
	cases := map[string]pgerr.Code{
		`INSERT INTO t VALUES (1, 'x')`:          pgerr.UniqueViolation,
		`INSERT INTO t VALUES (2, NULL)`:         pgerr.NotNullViolation,
		`INSERT INTO t VALUES (3, 'abcd')`:       pgerr.StringDataRightTruncation,
		`SELECT * FROM missing`:                  pgerr.UndefinedTable,
		`SELECT nope FROM t`:                     pgerr.UndefinedColumn,
		`SELEC 1`:                                pgerr.SyntaxError,
		`SELECT 1/0`:                             pgerr.DivisionByZero,
		`INSERT INTO t VALUES ('x', 'y')`:        pgerr.InvalidTextRepresentation,
		`CREATE TABLE t (a int)`:                 pgerr.DuplicateTable,
		`SELECT 'a' = 1`:                         pgerr.InvalidTextRepresentation,
		`INSERT INTO t VALUES (3000000000, 'z')`: pgerr.NumericValueOutOfRange,
		// Refused rather than stored as written (types.go).
		`CREATE TABLE tz (t time with time zone)`: pgerr.FeatureNotSupported,
		`SELECT '10:00+02'::timetz`:               pgerr.FeatureNotSupported,
		// RANGE offsets SQLite cannot compare exactly (rangeframe.go).
		`SELECT sum(id) OVER (ORDER BY v::numeric RANGE BETWEEN 5 PRECEDING AND CURRENT ROW) FROM t`:              pgerr.FeatureNotSupported,
		`SELECT count(*) OVER (ORDER BY now() RANGE BETWEEN interval '1 month' PRECEDING AND CURRENT ROW) FROM t`: pgerr.FeatureNotSupported,
	}
	for sql, want := range cases {
		if got := fails(t, s, sql); got != want {
			t.Errorf("%s: SQLSTATE %s, want %s", sql, got, want)
		}
	}
	r := must(t, s, `SELECT count(*) FROM t`)
	if rowsText(r.rows) != "1" {
		t.Fatalf("bad input changed state: %v", r.rows)
	}
	c.waitConverged(t)
}

func TestExplicitTransactions(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id serial PRIMARY KEY, v text)`)
	rs := run(t, s, `BEGIN; INSERT INTO t (v) VALUES ('x'); SELECT count(*) FROM t; ROLLBACK`)
	if rowsText(rs[2].rows) != "1" {
		t.Fatalf("read own write: %+v", rs)
	}
	if r := must(t, s, `SELECT count(*) FROM t`); rowsText(r.rows) != "0" {
		t.Fatalf("rollback kept a row: %v", r.rows)
	}
	must(t, s, `BEGIN`)
	must(t, s, `INSERT INTO t (v) VALUES ('y')`)
	if s.TxStatus() != 'T' {
		t.Fatalf("status %c", s.TxStatus())
	}
	if code := fails(t, s, `INSERT INTO t (id, v) VALUES (currval('t_id_seq'), 'dup')`); code != pgerr.UniqueViolation {
		t.Fatalf("code %s", code)
	}
	if s.TxStatus() != 'E' {
		t.Fatalf("status after error %c", s.TxStatus())
	}
	if code := fails(t, s, `SELECT 1`); code != pgerr.InFailedSQLTransaction {
		t.Fatalf("code %s", code)
	}
	if r := must(t, s, `COMMIT`); r.tag != "ROLLBACK" {
		t.Fatalf("commit of failed block: %q", r.tag)
	}
	must(t, s, `BEGIN; INSERT INTO t (v) VALUES ('a'); SAVEPOINT sp; INSERT INTO t (v) VALUES ('b'); ROLLBACK TO sp; INSERT INTO t (v) VALUES ('c'); COMMIT`)
	r := must(t, s, `SELECT v FROM t ORDER BY id`)
	if got := rowsText(r.rows); got != "a\nc" {
		t.Fatalf("savepoints: %q", got)
	}
	c.waitConverged(t)
}

func TestDeterministicContextReplays(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id serial PRIMARY KEY, at timestamptz DEFAULT now(), r float8, u uuid DEFAULT gen_random_uuid())`)
	for i := 0; i < 5; i++ {
		must(t, s, `INSERT INTO t (r) VALUES (random())`)
	}
	must(t, s, `BEGIN; INSERT INTO t (r) SELECT random() FROM t; UPDATE t SET at = now() WHERE id = 2; COMMIT`)
	c.waitConverged(t)
}
