package outbox

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SQL is the seam SQLStore needs from the engine. Values follow the pgval
// value model: int64, string, bool, time.Time, []byte, nil.
type SQL interface {
	// Query runs a read on this node's committed state. PostgreSQL SQL, $n
	// parameters.
	Query(ctx context.Context, sql string, args ...any) ([][]any, error)
	// Exec proposes stmts as ONE log entry labelled kind in exactly term and
	// returns, once it is applied here, the rows affected per statement.
	// Errors wrap ErrNotLeader when the entry was definitely not applied and
	// ErrAmbiguous when that is unknown.
	Exec(ctx context.Context, term uint64, kind string, stmts []Stmt) ([]int64, error)
	// BlockTime is the block time the next entry would carry (≥ the last
	// committed one).
	BlockTime() time.Time
}

// Stmt is one statement of an Exec.
type Stmt struct {
	SQL  string
	Args []any
}

// SQLStore is the production Store: plain PostgreSQL SQL on chr2.effects and
// chr2.sinks through the SQL seam. The SQL sticks to SELECT with
// WHERE/AND/OR/IN/IS NULL/ORDER BY/LIMIT, count(*) and min() with GROUP BY,
// and single-row UPDATEs, because the engine is young.
type SQLStore struct {
	db       SQL
	maxPages int // candidate pages read per round when ordering keys block

	mu   sync.Mutex
	last time.Time // Now never goes backwards
}

var _ Store = (*SQLStore)(nil)

// NewSQLStore returns the Store over db.
func NewSQLStore(db SQL) *SQLStore { return &SQLStore{db: db, maxPages: 4} }

// maxExcludedKeys bounds the NOT IN list of blocked ordering keys.
const maxExcludedKeys = 1024

const effectCols = `id, seq, sink, payload, ordering_key, run_at, status, attempts, last_error,
fencing_token, created_at, claimed_at, next_attempt_at, delivered_at`

const claimableWhere = `((status IN ('pending', 'retry') AND (run_at IS NULL OR run_at <= $1)
AND (next_attempt_at IS NULL OR next_attempt_at <= $1) AND (fencing_token IS NULL OR fencing_token <= $2))
OR (status = 'in_flight' AND fencing_token < $2))`

// Now is max(wall clock, the engine's block time), never decreasing.
func (s *SQLStore) Now() time.Time {
	now := time.Now().Round(0)
	if bt := s.db.BlockTime(); bt.After(now) {
		now = bt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.last) {
		now = s.last
	}
	s.last = now
	return now
}

// Candidates reads claimable effects page by page in seq order and keeps
// ordering-key heads, within the per-sink quotas. A sink whose quota is
// filled and a key found blocked are excluded from later pages, so neither a
// deep backlog behind one key nor one behind a busy sink starves the others.
func (s *SQLStore) Candidates(ctx context.Context, q CandidateQuery) ([]Effect, error) {
	var out []Effect
	quota := make(map[string]int, len(q.Quota)) // remaining per sink
	for k, v := range q.Quota {
		if v > 0 {
			quota[k] = v
		}
	}
	seen := make(map[string]struct{}) // keys whose head was decided
	afterSeq := int64(-1)
	for page := 0; page < s.maxPages && len(out) < q.Limit && len(quota) > 0; page++ {
		rows, err := s.candidatePage(ctx, q, afterSeq, quota, seen)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			break
		}
		afterSeq = rows[len(rows)-1].Seq
		heads, err := s.heads(ctx, rows, seen)
		if err != nil {
			return nil, err
		}
		for _, e := range SelectHeads(rows, heads) {
			if len(out) < q.Limit && quota[e.Sink] > 0 {
				out = append(out, e)
				if quota[e.Sink]--; quota[e.Sink] == 0 {
					delete(quota, e.Sink)
				}
			}
		}
		for _, e := range rows {
			if e.OrderingKey != "" {
				seen[e.OrderingKey] = struct{}{}
			}
		}
		if len(rows) < q.Limit || len(seen) > maxExcludedKeys {
			break
		}
	}
	return out, nil
}

func (s *SQLStore) candidatePage(ctx context.Context, q CandidateQuery, afterSeq int64,
	sinks map[string]int, exclude map[string]struct{}) ([]Effect, error) {
	var b strings.Builder
	args := []any{q.Now, int64(q.Term), afterSeq}
	b.WriteString("SELECT " + effectCols + " FROM chr2.effects WHERE " + claimableWhere + " AND seq > $3 AND sink IN (")
	args = appendList(&b, args, sortedKeys(sinks))
	b.WriteString(")")
	if len(exclude) > 0 {
		b.WriteString(" AND (ordering_key IS NULL OR ordering_key NOT IN (")
		args = appendList(&b, args, sortedKeys(exclude))
		b.WriteString("))")
	}
	args = append(args, int64(q.Limit))
	b.WriteString(" ORDER BY seq LIMIT $" + strconv.Itoa(len(args)))
	rows, err := s.db.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("outbox: query candidates: %w", err)
	}
	out := make([]Effect, 0, len(rows))
	for _, row := range rows {
		e, err := scanEffect(row)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// appendList writes "$i, $i+1, …" for vals and returns args extended by them.
func appendList(b *strings.Builder, args []any, vals []string) []any {
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, v)
		b.WriteString("$" + strconv.Itoa(len(args)))
	}
	return args
}

// heads returns the lowest unfinished seq of each ordering key in rows that
// is not already decided.
func (s *SQLStore) heads(ctx context.Context, rows []Effect, decided map[string]struct{}) (map[string]int64, error) {
	keys := make(map[string]struct{})
	for _, e := range rows {
		if _, done := decided[e.OrderingKey]; e.OrderingKey != "" && !done {
			keys[e.OrderingKey] = struct{}{}
		}
	}
	heads := make(map[string]int64, len(keys))
	if len(keys) == 0 {
		return heads, nil
	}
	var b strings.Builder
	b.WriteString("SELECT ordering_key, min(seq) FROM chr2.effects WHERE ordering_key IN (")
	args := appendList(&b, nil, sortedKeys(keys))
	b.WriteString(") AND status IN ('pending', 'in_flight', 'retry', 'dead') GROUP BY ordering_key")
	res, err := s.db.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("outbox: query ordering-key heads: %w", err)
	}
	for _, row := range res {
		r := rowReader{row: row}
		k, seq := r.str(0), r.int(1)
		if r.err != nil || len(row) != 2 {
			return nil, fmt.Errorf("%w: heads row %v", ErrBadRow, r.errOr(len(row)))
		}
		heads[k] = seq
	}
	return heads, nil
}

// NextWake is the earliest future next_attempt_at or run_at of a pending or
// retry effect.
func (s *SQLStore) NextWake(ctx context.Context, now time.Time) (time.Time, error) {
	var next time.Time
	for _, col := range []string{"next_attempt_at", "run_at"} {
		q := "SELECT " + col + " FROM chr2.effects WHERE status IN ('pending', 'retry') AND " +
			col + " > $1 ORDER BY " + col + " LIMIT 1"
		rows, err := s.db.Query(ctx, q, now)
		if err != nil {
			return time.Time{}, fmt.Errorf("outbox: query next wake: %w", err)
		}
		if len(rows) == 0 {
			continue
		}
		r := rowReader{row: rows[0]}
		t := r.time(0)
		if r.err != nil {
			return time.Time{}, r.err
		}
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next, nil
}

// Backlog counts pending and retry effects and finds the oldest one's
// created_at.
func (s *SQLStore) Backlog(ctx context.Context) (int64, time.Time, error) {
	rows, err := s.db.Query(ctx, "SELECT count(*) FROM chr2.effects WHERE status IN ('pending', 'retry')")
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox: query backlog: %w", err)
	}
	if len(rows) != 1 {
		return 0, time.Time{}, fmt.Errorf("%w: count returned %d rows", ErrBadRow, len(rows))
	}
	r := rowReader{row: rows[0]}
	n := r.int(0)
	rows, err = s.db.Query(ctx, "SELECT created_at FROM chr2.effects WHERE status IN ('pending', 'retry') ORDER BY seq LIMIT 1")
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox: query oldest pending: %w", err)
	}
	var oldest time.Time
	if len(rows) == 1 {
		r2 := rowReader{row: rows[0]}
		oldest = r2.time(0)
		r.keep(r2.err)
	}
	return n, oldest, r.err
}

// Sinks reads chr2.sinks.
func (s *SQLStore) Sinks(ctx context.Context) (map[string]Sink, error) {
	rows, err := s.db.Query(ctx, `SELECT name, url, secret, max_attempts, retry_schedule, timeout_ms, concurrency
FROM chr2.sinks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("outbox: query sinks: %w", err)
	}
	out := make(map[string]Sink, len(rows))
	for _, row := range rows {
		if len(row) != 7 {
			return nil, fmt.Errorf("%w: sinks row has %d columns", ErrBadRow, len(row))
		}
		r := rowReader{row: row}
		sk := Sink{
			Name: r.str(0), URL: r.str(1), Secret: Secret(r.str(2)), MaxAttempts: int(r.int(3)),
			RetrySchedule: r.str(4), Timeout: time.Duration(r.int(5)) * time.Millisecond, Concurrency: int(r.int(6)),
		}
		if r.err != nil {
			return nil, r.err
		}
		out[sk.Name] = sk
	}
	return out, nil
}

// Apply writes each transition as one compare-and-set UPDATE, all in one
// entry.
func (s *SQLStore) Apply(ctx context.Context, term uint64, kind string, ts []Transition) ([]bool, error) {
	stmts := make([]Stmt, len(ts))
	for i, t := range ts {
		if t.Kind != kind {
			return nil, fmt.Errorf("outbox: %s transition in a %s entry", t.Kind, kind)
		}
		stmts[i] = updateStmt(t)
	}
	affected, err := s.db.Exec(ctx, term, kind, stmts)
	if err != nil {
		return nil, err
	}
	if len(affected) != len(stmts) {
		return nil, fmt.Errorf("%w: %d row counts for %d statements", ErrBadRow, len(affected), len(stmts))
	}
	applied := make([]bool, len(ts))
	for i, n := range affected {
		if n > 1 {
			panic(fmt.Sprintf("outbox: compare-and-set on primary key %q updated %d rows", ts[i].EffectID, n))
		}
		applied[i] = n == 1
	}
	return applied, nil
}
