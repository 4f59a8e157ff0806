package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestWalkingSkeleton is issue 2's acceptance scenario against the real
// binary: psql creates a table and a sink, a transaction commits a row and
// an effect together, the sink receives one signed POST with the chr2
// headers, a rolled-back transaction produces no effect, and after kill -9
// and a restart the rows and the delivered status survive and nothing is
// delivered again.
func TestWalkingSkeleton(t *testing.T) {
	s := newSink(t)
	n := newNode(t, 1)
	n.start()
	n.waitReady(20 * time.Second)

	if out := n.mustPSQL("CREATE TABLE t(id serial primary key, v text not null)",
		"INSERT INTO t(v) VALUES ('a') RETURNING id"); out != "1" {
		t.Fatalf("INSERT … RETURNING id: %q", out)
	}
	n.mustPSQL("INSERT INTO chr2.sinks(name, url, secret) VALUES ('hook', '" + s.srv.URL + "/in', '" + testSecret + "')")
	n.mustPSQL("BEGIN", "INSERT INTO t(v) VALUES ('b')",
		`INSERT INTO chr2.effects(sink, payload) VALUES ('hook', '{"order": 42}')`, "COMMIT")
	n.mustPSQL("BEGIN", "INSERT INTO t(v) VALUES ('never')",
		`INSERT INTO chr2.effects(sink, payload) VALUES ('hook', '{"order": 666}')`, "ROLLBACK")

	id := n.mustPSQL("SELECT id FROM chr2.effects")
	if strings.Contains(id, "\n") || id == "" {
		t.Fatalf("want exactly one effect, got %q", id)
	}
	waitFor(t, 10*time.Second, "delivered status", func() bool {
		out, _ := n.psql("SELECT status FROM chr2.effects WHERE id = '" + id + "'")
		return out == "delivered"
	})
	got := s.deliveries()
	if len(got) != 1 {
		t.Fatalf("want one delivery, got %d: %+v", len(got), got)
	}
	d := got[0]
	if d.ID != id || d.IdempotencyKey != id || d.Body != `{"order": 42}` || d.ContentType != "application/json" ||
		d.Attempt != "1" || d.Token == "" || !verifySignature(testSecret, d) {
		t.Fatalf("delivery headers or body wrong: %+v", d)
	}
	if term := n.mustPSQL("SELECT fencing_token FROM chr2.effects"); term != d.Token {
		t.Fatalf("fencing token %q recorded, %q sent", term, d.Token)
	}

	n.kill()
	n.start()
	n.waitReady(20 * time.Second)
	if out := n.mustPSQL("SELECT v FROM t ORDER BY id"); out != "a\nb" {
		t.Fatalf("rows after kill -9: %q", out)
	}
	if out := n.mustPSQL("SELECT status FROM chr2.effects WHERE id = '" + id + "'"); out != "delivered" {
		t.Fatalf("status after kill -9: %q", out)
	}
	// A new effect after the restart is delivered; by then the dispatcher has
	// run over every candidate, so the old effect would have been re-sent.
	n.mustPSQL(`INSERT INTO chr2.effects(sink, payload) VALUES ('hook', '{"order": 43}')`)
	waitFor(t, 10*time.Second, "second delivery", func() bool { return len(s.deliveries()) == 2 })
	if c := s.count(id); c != 1 {
		t.Fatalf("effect %s delivered %d times after restart", id, c)
	}
}

// TestPgxExtendedProtocol drives the node with pgx: prepared statements,
// typed parameters and results in binary format, errors with SQLSTATEs.
func TestPgxExtendedProtocol(t *testing.T) {
	n := newNode(t, 1)
	n.start()
	n.waitReady(20 * time.Second)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://postgres@"+n.pgAddr+"/postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE acct (id bigserial PRIMARY KEY, owner text NOT NULL, balance int NOT NULL,
		active boolean NOT NULL DEFAULT true, opened timestamptz NOT NULL DEFAULT now(), meta jsonb)`)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	var opened time.Time
	err = conn.QueryRow(ctx, `INSERT INTO acct (owner, balance, meta) VALUES ($1, $2, $3) RETURNING id, opened`,
		"alice", 100, map[string]any{"tier": "gold"}).Scan(&id, &opened)
	if err != nil {
		t.Fatal(err)
	}
	if id != 1 || time.Since(opened) > time.Minute || time.Since(opened) < -time.Minute {
		t.Fatalf("returned id %d opened %v", id, opened)
	}
	for i := 0; i < 3; i++ {
		if _, err := conn.Exec(ctx, `UPDATE acct SET balance = balance + $1 WHERE id = $2`, 10, id); err != nil {
			t.Fatal(err)
		}
	}
	var owner string
	var balance int32
	var active bool
	var tier string
	err = conn.QueryRow(ctx, `SELECT owner, balance, active, meta->>'tier' FROM acct WHERE id = $1`, id).
		Scan(&owner, &balance, &active, &tier)
	if err != nil {
		t.Fatal(err)
	}
	if owner != "alice" || balance != 130 || !active || tier != "gold" {
		t.Fatalf("got %s %d %v %s", owner, balance, active, tier)
	}
	_, err = conn.Exec(ctx, `INSERT INTO acct (id, owner, balance) VALUES ($1, $2, $3)`, id, "dup", 0)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("duplicate key: %v", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO acct (owner, balance) VALUES ('bob', 5)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var count int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM acct`).Scan(&count); err != nil || count != 1 {
		t.Fatalf("count after rollback: %d %v", count, err)
	}
}
