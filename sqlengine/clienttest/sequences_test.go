package clienttest

import "testing"

// TestCurrvalThroughFollower: a follower's session forwards its writes, so
// the currval they set lives in its session on the leader; reading it on
// the follower afterwards (outside any transaction) must still work.
func TestCurrvalThroughFollower(t *testing.T) {
	c := startCluster(t, 3)
	conn := connect(t, c.follower())
	for _, sql := range []string{
		"CREATE TABLE seqs (id serial PRIMARY KEY, v text)",
		"INSERT INTO seqs (v) VALUES ('a'), ('b')",
	} {
		if _, err := conn.Exec(ctx(t), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var cur, last int64
	if err := conn.QueryRow(ctx(t), "SELECT currval('seqs_id_seq'), lastval()").Scan(&cur, &last); err != nil || cur != 2 || last != 2 {
		t.Fatalf("currval, lastval = %d, %d, %v; want 2, 2", cur, last, err)
	}
	if _, err := conn.Exec(ctx(t), "INSERT INTO seqs (id, v) VALUES (currval('seqs_id_seq') + 10, 'c')"); err != nil {
		t.Fatal(err)
	}
	for id, s := range c.nodes {
		var max int64
		if err := connect(t, s).QueryRow(ctx(t), "SELECT max(id) FROM seqs").Scan(&max); err != nil || max != 12 {
			t.Fatalf("node %d: max(id) = %d, %v; want 12", id, max, err)
		}
	}
}
