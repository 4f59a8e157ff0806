package sqlengine

import (
	"testing"

	"github.com/chr2sql/chr2sql/pgerr"
)

func TestUniqueViolationDetail(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE p (id int PRIMARY KEY, name text UNIQUE, price numeric(6,2))`)
	must(t, s, `INSERT INTO p VALUES (1, 'widget', 2)`)
	for sql, want := range map[string]string{
		`INSERT INTO p VALUES (1, 'x', 1)`:              "Key (id)=(1) already exists.",
		`INSERT INTO p (id, name) VALUES (2, 'widget')`: "Key (name)=(widget) already exists.",
	} {
		rs := run(t, s, sql)
		pe := pgerr.From(rs[0].err)
		if pe.Code != pgerr.UniqueViolation || pe.Detail != want {
			t.Errorf("%s: %v %q", sql, pe, pe.Detail)
		}
	}
	c.waitConverged(t)
}

// TestFailingRowDetail checks NOT NULL and CHECK violations word their
// error and DETAIL exactly as PostgreSQL 15 does (recorded with psql),
// also after the table and a column are renamed and a column is added.
// (A CHECK created before an ADD COLUMN that did not rebuild the table
// shows the row without the added columns: a documented difference.)
func TestFailingRowDetail(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(6,2) NOT NULL CHECK (price > 0),
		active bool DEFAULT true, data bytea, CONSTRAINT a_name_len CHECK (length(name) < 20))`)
	must(t, s, `INSERT INTO products (id, name, price) VALUES (5, 'ok', 2)`)
	cases := []struct{ sql, msg, detail string }{
		{`INSERT INTO products (id, name, price) VALUES (1, 'negative', -1)`,
			`new row for relation "products" violates check constraint "products_price_check"`,
			`Failing row contains (1, negative, -1.00, t, null).`},
		{`INSERT INTO products (id, name) VALUES (2, 'no price')`,
			`null value in column "price" of relation "products" violates not-null constraint`,
			`Failing row contains (2, no price, null, t, null).`},
		{`INSERT INTO products (id, name, price, data) VALUES (4, 'this name is much too long for the check', -5, '\x00ff')`,
			`new row for relation "products" violates check constraint "a_name_len"`,
			`Failing row contains (4, this name is much too long for the check, -5.00, t, \x00ff).`},
		{`ALTER TABLE products RENAME COLUMN price TO cost`, "", ""},
		{`ALTER TABLE products RENAME TO goods`, "", ""},
		{`ALTER TABLE goods ADD COLUMN note text NOT NULL DEFAULT 'n'`, "", ""},
		{`UPDATE goods SET note = NULL`,
			`null value in column "note" of relation "goods" violates not-null constraint`,
			`Failing row contains (5, ok, 2.00, t, null, null).`},
	}
	for _, tc := range cases {
		r := run(t, s, tc.sql)[0]
		if tc.msg == "" {
			if r.err != nil {
				t.Fatalf("%s: %v", tc.sql, r.err)
			}
			continue
		}
		pe := pgerr.From(r.err)
		if pe.Message != tc.msg || pe.Detail != tc.detail {
			t.Errorf("%s:\n got %q / %q\nwant %q / %q", tc.sql, pe.Message, pe.Detail, tc.msg, tc.detail)
		}
	}
	c.waitConverged(t)
}

// TestNumericOverflowDetail: numeric(p, s) overflow carries PostgreSQL's
// DETAIL, whether the value is folded at translation or computed per row.
func TestNumericOverflowDetail(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE nn (x numeric(4,1), y numeric(3,3))`)
	for sql, want := range map[string]string{
		`SELECT 1234.5::numeric(5,2)`:              "A field with precision 5, scale 2 must round to an absolute value less than 10^3.",
		`INSERT INTO nn (x) VALUES (12345)`:        "A field with precision 4, scale 1 must round to an absolute value less than 10^3.",
		`INSERT INTO nn (x) SELECT 99999.9`:        "A field with precision 4, scale 1 must round to an absolute value less than 10^3.",
		`INSERT INTO nn (y) VALUES (1)`:            "A field with precision 3, scale 3 must round to an absolute value less than 1.",
		`SELECT 'Infinity'::numeric::numeric(5,2)`: "A field with precision 5, scale 2 cannot hold an infinite value.",
	} {
		pe := pgerr.From(firstErr(run(t, s, sql)))
		if pe.Code != pgerr.NumericValueOutOfRange || pe.Detail != want {
			t.Errorf("%s: %s %q, want 22003 %q", sql, pe.Code, pe.Detail, want)
		}
	}
	c.waitConverged(t)
}
