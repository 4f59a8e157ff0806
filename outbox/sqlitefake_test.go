package outbox

// Test-only: an implementation of the SQL seam on an in-memory SQLite
// database (modernc.org/sqlite), so SQLStore's statements are executed, not
// just inspected. It stands in for the engine: "chr2." becomes "chr2_"
// (the engine's schema emulation is not our concern), timestamps are stored
// as unix microseconds, and each Exec is one SQLite transaction. It records
// every statement for shape checks.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

const sqliteSchema = `
CREATE TABLE chr2_sinks (
    name text PRIMARY KEY, url text NOT NULL, secret text, max_attempts integer NOT NULL DEFAULT 8,
    retry_schedule text, timeout_ms integer NOT NULL DEFAULT 10000, concurrency integer NOT NULL DEFAULT 8,
    created_at integer);
CREATE TABLE chr2_effects (
    id text PRIMARY KEY, seq integer NOT NULL UNIQUE, sink text NOT NULL REFERENCES chr2_sinks(name),
    payload text NOT NULL, ordering_key text, run_at integer,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'in_flight', 'delivered', 'retry', 'dead', 'cancelled')),
    attempts integer NOT NULL DEFAULT 0, last_error text, fencing_token integer,
    created_at integer NOT NULL, claimed_at integer, next_attempt_at integer, delivered_at integer);
CREATE INDEX effects_status_due ON chr2_effects (status, next_attempt_at);
CREATE INDEX effects_ordering ON chr2_effects (ordering_key, seq);`

type execRecord struct {
	term  uint64
	kind  string
	stmts []Stmt
}

type sqliteSQL struct {
	db *sql.DB

	mu      sync.Mutex
	block   time.Time
	queries []string
	execs   []execRecord
	seq     int64
}

var _ SQL = (*sqliteSQL)(nil)

func newSQLiteSQL(t testing.TB) *sqliteSQL {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(sqliteSchema); err != nil {
		t.Fatal(err)
	}
	return &sqliteSQL{db: db}
}

func toSQLite(q string, args []any) (string, []any) {
	q = strings.ReplaceAll(q, "chr2.", "chr2_")
	out := make([]any, len(args))
	for i, a := range args {
		if tm, ok := a.(time.Time); ok {
			out[i] = tm.UnixMicro()
		} else {
			out[i] = a
		}
	}
	return q, out
}

func (s *sqliteSQL) Query(ctx context.Context, q string, args ...any) ([][]any, error) {
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.mu.Unlock()
	lq, largs := toSQLite(q, args)
	rows, err := s.db.QueryContext(ctx, lq, largs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, c := range cols {
			if n, ok := vals[i].(int64); ok && strings.HasSuffix(c, "_at") {
				vals[i] = time.UnixMicro(n).UTC() // the pgval form of timestamptz
			}
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

func (s *sqliteSQL) Exec(ctx context.Context, term uint64, kind string, stmts []Stmt) ([]int64, error) {
	s.mu.Lock()
	s.execs = append(s.execs, execRecord{term: term, kind: kind, stmts: stmts})
	s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := make([]int64, len(stmts))
	for i, st := range stmts {
		q, args := toSQLite(st.SQL, st.Args)
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.SQL, err)
		}
		if out[i], err = res.RowsAffected(); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

func (s *sqliteSQL) BlockTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.block
}

func (s *sqliteSQL) addSink(t testing.TB, sk Sink) {
	_, err := s.db.Exec(`INSERT INTO chr2_sinks (name, url, secret, max_attempts, retry_schedule, timeout_ms, concurrency)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET url = excluded.url, secret = excluded.secret,
max_attempts = excluded.max_attempts, retry_schedule = excluded.retry_schedule, timeout_ms = excluded.timeout_ms,
concurrency = excluded.concurrency`,
		sk.Name, sk.URL, nullString(string(sk.Secret)), sk.MaxAttempts, nullString(sk.RetrySchedule),
		sk.Timeout.Milliseconds(), sk.Concurrency)
	if err != nil {
		t.Fatal(err)
	}
}

// insert writes a complete row, as the engine would after an INSERT.
func (s *sqliteSQL) insert(t testing.TB, e Effect) Effect {
	s.mu.Lock()
	if e.Seq == 0 {
		s.seq++
		e.Seq = s.seq
	}
	s.mu.Unlock()
	if e.ID == "" {
		e.ID = fmt.Sprintf("eff-%06d", e.Seq)
	}
	if e.Status == "" {
		e.Status = StatusPending
	}
	if e.Payload == nil {
		e.Payload = []byte(`{}`)
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = dbTime(time.Now())
	}
	tok := any(nil)
	if e.FencingToken != 0 {
		tok = int64(e.FencingToken)
	}
	micro := func(tm time.Time) any {
		if tm.IsZero() {
			return nil
		}
		return tm.UnixMicro()
	}
	_, err := s.db.Exec(`INSERT INTO chr2_effects (id, seq, sink, payload, ordering_key, run_at, status, attempts,
last_error, fencing_token, created_at, claimed_at, next_attempt_at, delivered_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Seq, e.Sink, string(e.Payload), nullString(e.OrderingKey), micro(e.RunAt), string(e.Status),
		e.Attempts, nullString(e.LastError), tok, micro(e.CreatedAt), micro(e.ClaimedAt), micro(e.NextAttemptAt),
		micro(e.DeliveredAt))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// operator runs an operator's SQL on the effects table.
func (s *sqliteSQL) operator(t testing.TB, q string, args ...any) {
	if _, err := s.db.Exec(strings.ReplaceAll(q, "chr2.", "chr2_"), args...); err != nil {
		t.Fatal(err)
	}
}

func (s *sqliteSQL) get(t testing.TB, id string) Effect {
	rows, err := s.Query(context.Background(), "SELECT "+effectCols+" FROM chr2.effects WHERE id = $1", id)
	if err != nil || len(rows) != 1 {
		t.Fatalf("get %s: %v (%d rows)", id, err, len(rows))
	}
	e, err := scanEffect(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	return e
}
