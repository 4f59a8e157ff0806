package sqlengine

import (
	"testing"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Data-modifying WITH queries run as several steps of one statement record:
// the follower replays them (capturing the RETURNING rows itself) and ends
// in the leader's state; the tag is the main statement's.
func TestDataModifyingWithReplicates(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE node (id serial PRIMARY KEY, parent int, label text)`)
	must(t, s, `CREATE TABLE archive (id int, label text, moved_at timestamptz DEFAULT now(), token float8 DEFAULT random())`)
	must(t, s, `INSERT INTO node (parent, label) SELECT g % 3, 'n' || g FROM generate_series(1, 30) g`)
	tags := [][2]string{
		{`WITH moved AS (DELETE FROM node WHERE parent = 1 RETURNING id, label) INSERT INTO archive (id, label) SELECT * FROM moved`, "INSERT 0 10"},
		{`WITH upd AS (UPDATE node SET label = label || random()::text WHERE parent = 2 RETURNING id) SELECT count(*) FROM upd`, "SELECT 1"},
		{`WITH ins AS (INSERT INTO node (parent, label) VALUES (7, 'x'), (7, 'y') RETURNING id, label) UPDATE archive SET label = ins.label FROM ins WHERE archive.id % 2 = ins.id % 2`, "UPDATE 10"},
		{`WITH d AS (DELETE FROM archive WHERE id < 10 RETURNING id) DELETE FROM node WHERE id IN (SELECT id + 1 FROM d)`, "DELETE 3"},
	}
	for _, tc := range tags {
		if got := must(t, s, tc[0]).tag; got != tc[1] {
			t.Errorf("%s: tag %q, want %q", tc[0], got, tc[1])
		}
	}
	// Parameters reach every part; a plain WITH query read by a
	// data-modifying one and by the main statement is evaluated once.
	r := must(t, s, `WITH pick AS (SELECT $1::int + (random() * 0)::int AS id), d AS (DELETE FROM node WHERE id IN (SELECT id FROM pick) RETURNING id, label)
		SELECT pick.id, left(d.label, 3), $2::text FROM pick LEFT JOIN d USING (id)`, int64(11), "p2")
	if got := rowsText(r.rows); got != "11|n11|p2" || r.tag != "SELECT 1" {
		t.Errorf("with parameters: %q, tag %q", got, r.tag)
	}
	// In a block, with a failed statement rolled back to a savepoint.
	must(t, s, `BEGIN`)
	must(t, s, `WITH d AS (DELETE FROM node WHERE parent = 0 RETURNING id, label) INSERT INTO archive (id, label) SELECT * FROM d`)
	must(t, s, `SAVEPOINT a`)
	if code := fails(t, s, `WITH d AS (DELETE FROM archive RETURNING id) INSERT INTO node (id) SELECT (SELECT min(id) FROM node) FROM d`); code != pgerr.UniqueViolation {
		t.Fatalf("duplicate key: got %s", code)
	}
	must(t, s, `ROLLBACK TO a`)
	must(t, s, `COMMIT`)
	if got := must(t, s, `SELECT count(*) FROM archive`).rows[0][0]; got != "17" {
		t.Errorf("archive has %s rows, want 17", got)
	}
	c.waitConverged(t)
}

// Statements whose parts would see each other's changes when run one
// after another are refused: PostgreSQL runs them all on one snapshot.
func TestDataModifyingWithSnapshotConflicts(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE p (id serial PRIMARY KEY, v int)`)
	must(t, s, `CREATE TABLE ch (id int PRIMARY KEY, p_id int REFERENCES p ON DELETE CASCADE)`)
	must(t, s, `CREATE TABLE other (id int)`)
	must(t, s, `CREATE VIEW pv AS SELECT id FROM p`)
	must(t, s, `INSERT INTO p (v) VALUES (1), (2)`)
	must(t, s, `INSERT INTO ch VALUES (1, 1)`)
	refused := []string{
		// the main statement reads a table a WITH query modifies
		`WITH d AS (DELETE FROM p WHERE id = 2 RETURNING id) SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM d)`,
		// … through a view
		`WITH d AS (DELETE FROM p WHERE id = 2 RETURNING id) SELECT count(*) FROM pv`,
		// … through ON DELETE CASCADE
		`WITH d AS (DELETE FROM p WHERE id = 1 RETURNING id) SELECT count(*) FROM ch`,
		// two parts modify one table
		`WITH u AS (UPDATE p SET v = 3 WHERE id = 2 RETURNING id) DELETE FROM p WHERE id IN (SELECT id FROM u)`,
		`WITH a AS (INSERT INTO other VALUES (1)), b AS (DELETE FROM other) SELECT 1`,
		// a later data-modifying query reads what an earlier one modified
		`WITH a AS (INSERT INTO other VALUES (1)), b AS (INSERT INTO ch SELECT id + 10, NULL FROM other RETURNING id) SELECT * FROM b`,
		// two parts draw from one sequence
		`WITH a AS (INSERT INTO p (v) VALUES (5) RETURNING id) INSERT INTO other SELECT nextval('p_id_seq') FROM a`,
		// WITH RECURSIVE lets a query name a later one; the parts run in order
		`WITH RECURSIVE d AS (DELETE FROM other WHERE id IN (SELECT id FROM later) RETURNING *), later AS (SELECT 1 AS id) SELECT * FROM d`,
		// a foreign key check of an earlier part depends on a later part
		`WITH c AS (INSERT INTO ch VALUES (5, 50) RETURNING id) INSERT INTO p (id, v) VALUES (50, 0)`,
		`WITH d AS (DELETE FROM other RETURNING id) UPDATE ch SET p_id = NULL WHERE id IN (SELECT id FROM d)`,
	}
	for _, sql := range refused[:len(refused)-1] {
		if code := fails(t, s, sql); code != pgerr.FeatureNotSupported {
			t.Errorf("%s: got %s, want 0A000", sql, code)
		}
	}
	// Allowed: an earlier part reading what a later one modifies, and the
	// common parent-then-child insert.
	must(t, s, refused[len(refused)-1])
	must(t, s, `WITH par AS (INSERT INTO p (v) VALUES (9) RETURNING id) INSERT INTO ch SELECT id + 100, id FROM par`)
	must(t, s, `WITH seen AS (SELECT count(*) AS n FROM other), d AS (INSERT INTO other SELECT n FROM seen RETURNING id) SELECT * FROM d`)
	if got := rowsText(must(t, s, `SELECT p.v, ch.id - p.id FROM p JOIN ch ON ch.p_id = p.id ORDER BY p.id`).rows); got != "1|0\n9|100" {
		t.Errorf("got %q", got)
	}
	c.waitConverged(t)
}
