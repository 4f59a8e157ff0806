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
