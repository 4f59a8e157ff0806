package sqlengine

import "testing"

// TestCommandTagsAndShowNames checks command tags and column names the
// SQL corpus files do not compare.
func TestCommandTagsAndShowNames(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE src (id int PRIMARY KEY, v text)`)
	must(t, s, `INSERT INTO src VALUES (1, 'a'), (2, 'b'), (3, NULL)`)
	cases := []struct{ sql, tag, col string }{
		{`CREATE TABLE dst AS SELECT id, v FROM src WHERE v IS NOT NULL`, "SELECT 2", ""},
		{`SELECT * INTO dst2 FROM src`, "SELECT 3", ""},
		{`START TRANSACTION ISOLATION LEVEL SERIALIZABLE`, "START TRANSACTION", ""},
		{`COMMIT`, "COMMIT", ""},
		{`BEGIN`, "BEGIN", ""},
		{`ROLLBACK`, "ROLLBACK", ""},
		{`SHOW TimeZone`, "SHOW", "TimeZone"},
		{`SHOW DateStyle`, "SHOW", "DateStyle"},
		{`SHOW application_name`, "SHOW", "application_name"},
		{`SELECT set_config('application_name', 'x', false)`, "SELECT 1", "set_config"},
	}
	for _, tc := range cases {
		r := must(t, s, tc.sql)
		if r.tag != tc.tag {
			t.Errorf("%s: tag %q, want %q", tc.sql, r.tag, tc.tag)
		}
		if tc.col != "" && (len(r.cols) != 1 || r.cols[0] != tc.col) {
			t.Errorf("%s: columns %v, want [%s]", tc.sql, r.cols, tc.col)
		}
	}
	c.waitConverged(t)
}
