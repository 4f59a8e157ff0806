package outbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// randomTable fills both stores with the same random rows. Rows need not be
// reachable through the lifecycle: the queries must agree on any table.
func randomTable(t *testing.T, rnd *rand.Rand, lite *sqliteSQL, mem *memStore, n int, base time.Time) {
	statuses := []Status{StatusPending, StatusPending, StatusRetry, StatusInFlight, StatusDelivered, StatusDead, StatusCancelled}
	at := func() time.Time {
		if rnd.IntN(3) == 0 {
			return time.Time{}
		}
		return dbTime(base.Add(time.Duration(rnd.IntN(20)-10) * time.Second))
	}
	for i := 1; i <= n; i++ {
		e := Effect{
			ID: fmt.Sprintf("e%04d", i), Seq: int64(i * 2), Sink: fmt.Sprintf("s%d", rnd.IntN(3)), Payload: []byte(`{"i":1}`),
			Status: statuses[rnd.IntN(len(statuses))], Attempts: rnd.IntN(4),
			RunAt: at(), NextAttemptAt: at(), CreatedAt: dbTime(base.Add(-time.Duration(i) * time.Second)),
		}
		if rnd.IntN(2) == 0 {
			e.OrderingKey = fmt.Sprintf("k%d", rnd.IntN(4))
		}
		if e.Status != StatusPending || rnd.IntN(2) == 0 {
			e.FencingToken = uint64(1 + rnd.IntN(5))
		}
		if rnd.IntN(4) == 0 {
			e.LastError = "http 500"
		}
		lite.insert(t, e)
		row := e
		mem.rows = append(mem.rows, &row)
		mem.byID[e.ID] = &row
	}
}

func ids(es []Effect) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// SQLStore on SQLite against the in-memory reference store, on random
// tables: same candidates, wake times, backlog, CAS results and final rows.
func TestSQLStoreMatchesReference(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for run := 0; run < 20; run++ {
		rnd := rand.New(rand.NewPCG(seed, uint64(run)))
		lite, mem := newSQLiteSQL(t), newMemStore()
		for i := 0; i < 3; i++ {
			lite.addSink(t, Sink{Name: fmt.Sprintf("s%d", i), URL: "http://x", MaxAttempts: 3, Timeout: time.Second, Concurrency: 1})
		}
		base := dbTime(time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC))
		randomTable(t, rnd, lite, mem, 40+rnd.IntN(40), base)
		store := NewSQLStore(lite)
		store.maxPages = 1000 // exact equality; the page bound is tested separately
		ctx := context.Background()
		for q := 0; q < 10; q++ {
			now := base.Add(time.Duration(rnd.IntN(30)-15) * time.Second)
			q := CandidateQuery{Now: now, Term: uint64(1 + rnd.IntN(6)), Limit: 1 + rnd.IntN(12), Quota: map[string]int{}}
			for i := 0; i < 3; i++ {
				if rnd.IntN(4) > 0 {
					q.Quota[fmt.Sprintf("s%d", i)] = rnd.IntN(6)
				}
			}
			got, err := store.Candidates(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := mem.Candidates(ctx, q)
			if !reflect.DeepEqual(ids(got), ids(want)) {
				t.Fatalf("seed %d run %d: Candidates(now %v, term %d, limit %d, quota %v)\n got %v\nwant %v",
					seed, run, now.Sub(base), q.Term, q.Limit, q.Quota, ids(got), ids(want))
			}
			gw, err := store.NextWake(ctx, now)
			ww, _ := mem.NextWake(ctx, now)
			if err != nil || !gw.Equal(ww) {
				t.Fatalf("seed %d run %d: NextWake = %v, %v; want %v", seed, run, gw, err, ww)
			}
		}
		gn, go_, err := store.Backlog(ctx)
		wn, wo, _ := mem.Backlog(ctx)
		if err != nil || gn != wn || !go_.Equal(wo) {
			t.Fatalf("Backlog = %d %v %v; want %d %v", gn, go_, err, wn, wo)
		}
		applyRandom(t, rnd, store, mem, base, seed, run)
	}
}

func applyRandom(t *testing.T, rnd *rand.Rand, store *SQLStore, mem *memStore, base time.Time, seed uint64, run int) {
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		kind := []string{KindClaim, KindAck, KindFail}[rnd.IntN(3)]
		var ts []Transition
		for i := 0; i < 1+rnd.IntN(6); i++ {
			e := *mem.rows[rnd.IntN(len(mem.rows))]
			if rnd.IntN(3) == 0 { // a stale expectation
				e.Attempts++
			}
			now := base.Add(time.Duration(rnd.IntN(10)) * time.Second)
			switch kind {
			case KindClaim:
				e.Status, e.RunAt, e.NextAttemptAt = StatusPending, time.Time{}, time.Time{}
				tr, _ := Claim(e, e.FencingToken+1, now)
				ts = append(ts, tr)
			case KindAck:
				e.Status = StatusInFlight
				tr, _ := Ack(e, e.Attempts, e.FencingToken, now)
				ts = append(ts, tr)
			case KindFail:
				e.Status = StatusInFlight
				tr, _ := Fail(e, Failure{Attempt: e.Attempts, Term: e.FencingToken, Err: "boom", Jitter: rnd.Float64()},
					RetryPolicy{MaxAttempts: 2, Schedule: []time.Duration{time.Minute}}, now)
				ts = append(ts, tr)
			}
		}
		got, err := store.Apply(ctx, 9, kind, ts)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := mem.Apply(ctx, 9, kind, ts)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d run %d: %s Apply = %v, want %v", seed, run, kind, got, want)
		}
	}
	for _, r := range mem.rows {
		got := store.db.(*sqliteSQL).get(t, r.ID)
		if !reflect.DeepEqual(got, *r) {
			t.Fatalf("seed %d run %d: row differs\n got %+v\nwant %+v", seed, run, got, *r)
		}
	}
}

func TestSQLStoreDeepKeyDoesNotStarveOthers(t *testing.T) {
	lite := newSQLiteSQL(t)
	lite.addSink(t, Sink{Name: "s", URL: "http://x", MaxAttempts: 3, Timeout: time.Second, Concurrency: 1})
	for i := 0; i < 600; i++ {
		lite.insert(t, Effect{Sink: "s", OrderingKey: "hot"})
	}
	lone := lite.insert(t, Effect{Sink: "s"})
	got, err := NewSQLStore(lite).Candidates(context.Background(),
		CandidateQuery{Now: time.Now(), Term: 1, Limit: 256, Quota: map[string]int{"s": 256}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "eff-000001" || got[1].ID != lone.ID {
		t.Fatalf("candidates %v; want the hot key's head and the unkeyed effect", ids(got))
	}
}

func TestSQLStoreBusySinkDoesNotStarveOthers(t *testing.T) {
	lite := newSQLiteSQL(t)
	for _, name := range []string{"slow", "fast"} {
		lite.addSink(t, Sink{Name: name, URL: "http://x", MaxAttempts: 3, Timeout: time.Second, Concurrency: 2})
	}
	for i := 0; i < 1000; i++ {
		lite.insert(t, Effect{Sink: "slow"})
	}
	fast := lite.insert(t, Effect{Sink: "fast"})
	got, err := NewSQLStore(lite).Candidates(context.Background(),
		CandidateQuery{Now: time.Now(), Term: 1, Limit: 256, Quota: map[string]int{"slow": 2, "fast": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].ID != fast.ID {
		t.Fatalf("candidates %v; want two of slow's and fast's one", ids(got))
	}
	// A full sink is not asked for at all.
	got, _ = NewSQLStore(lite).Candidates(context.Background(),
		CandidateQuery{Now: time.Now(), Term: 1, Limit: 256, Quota: map[string]int{"fast": 2}})
	if len(got) != 1 || got[0].ID != fast.ID {
		t.Fatalf("candidates %v; want only fast's", ids(got))
	}
}

func TestSQLStoreApplyShape(t *testing.T) {
	lite := newSQLiteSQL(t)
	lite.addSink(t, Sink{Name: "s", URL: "http://x", MaxAttempts: 3, Timeout: time.Second, Concurrency: 1})
	a := lite.insert(t, Effect{Sink: "s"})
	b := lite.insert(t, Effect{Sink: "s", Status: StatusRetry, Attempts: 1, FencingToken: 2})
	store := NewSQLStore(lite)
	now := dbTime(time.Now())
	ca, _ := Claim(a, 3, now)
	cb, _ := Claim(b, 3, now)
	applied, err := store.Apply(context.Background(), 3, KindClaim, []Transition{ca, cb})
	if err != nil || !applied[0] || !applied[1] {
		t.Fatalf("Apply = %v, %v", applied, err)
	}
	if len(lite.execs) != 1 || lite.execs[0].kind != KindClaim || lite.execs[0].term != 3 || len(lite.execs[0].stmts) != 2 {
		t.Fatalf("want one claim entry in term 3 with two statements, got %+v", lite.execs)
	}
	s0, s1 := lite.execs[0].stmts[0], lite.execs[0].stmts[1]
	if !strings.HasSuffix(s0.SQL, "fencing_token IS NULL") || len(s0.Args) != 7 {
		t.Errorf("claim of a never-claimed row: %s %v", s0.SQL, s0.Args)
	}
	if !strings.HasSuffix(s1.SQL, "fencing_token = $8") || len(s1.Args) != 8 || s1.Args[7] != int64(2) {
		t.Errorf("claim of a retried row: %s %v", s1.SQL, s1.Args)
	}
	want := []any{"in_flight", int64(1), int64(3), now, a.ID, "pending", int64(0)}
	if !reflect.DeepEqual(s0.Args, want) {
		t.Errorf("args %v, want %v", s0.Args, want)
	}
	// Replaying the same claim matches nothing.
	if applied, _ := store.Apply(context.Background(), 3, KindClaim, []Transition{ca}); applied[0] {
		t.Fatal("a replayed claim applied twice")
	}
	if _, err := store.Apply(context.Background(), 3, KindAck, []Transition{ca}); err == nil {
		t.Fatal("a claim inside an ack entry was accepted")
	}
}

// The engine is young: SQLStore must not need CTEs, window functions,
// RETURNING, casts or upserts.
func TestSQLStoreUsesSimpleSQL(t *testing.T) {
	lite := newSQLiteSQL(t)
	lite.addSink(t, Sink{Name: "s", URL: "http://x", MaxAttempts: 3, Timeout: time.Second, Concurrency: 1})
	for i := 0; i < 5; i++ {
		lite.insert(t, Effect{Sink: "s", OrderingKey: "k"})
	}
	store := NewSQLStore(lite)
	ctx := context.Background()
	cands, _ := store.Candidates(ctx, CandidateQuery{Now: time.Now(), Term: 1, Limit: 2, Quota: map[string]int{"s": 2}})
	_, _ = store.NextWake(ctx, time.Now())
	_, _, _ = store.Backlog(ctx)
	_, _ = store.Sinks(ctx)
	tr, _ := Claim(cands[0], 1, time.Now())
	_, _ = store.Apply(ctx, 1, KindClaim, []Transition{tr})
	texts := append([]string(nil), lite.queries...)
	for _, e := range lite.execs {
		for _, s := range e.stmts {
			texts = append(texts, s.SQL)
		}
	}
	for _, q := range texts {
		u := strings.ToUpper(q)
		for _, bad := range []string{"WITH ", " OVER", "RETURNING", "::", "ON CONFLICT", "JOIN", "CASE ", "COALESCE"} {
			if strings.Contains(u, bad) {
				t.Errorf("statement uses %q: %s", bad, q)
			}
		}
		if !strings.Contains(q, "chr2.effects") && !strings.Contains(q, "chr2.sinks") {
			t.Errorf("statement not on chr2 tables: %s", q)
		}
	}
}

// cannedSQL answers every query with fixed rows (test-only).
type cannedSQL struct {
	rows [][]any
	err  error
	aff  []int64
}

func (c cannedSQL) Query(context.Context, string, ...any) ([][]any, error) { return c.rows, c.err }
func (c cannedSQL) Exec(context.Context, uint64, string, []Stmt) ([]int64, error) {
	return c.aff, c.err
}
func (c cannedSQL) BlockTime() time.Time { return time.Time{} }

func TestSQLStoreRejectsMalformedRows(t *testing.T) {
	ctx := context.Background()
	good := []any{"id", int64(1), "s", "{}", nil, nil, "pending", int64(0), nil, nil, time.Now(), nil, nil, nil}
	mut := func(i int, v any) [][]any {
		r := append([]any(nil), good...)
		r[i] = v
		return [][]any{r}
	}
	for name, rows := range map[string][][]any{
		"short row":      {good[:5]},
		"seq as text":    mut(1, "1"),
		"bad status":     mut(6, "sent"),
		"time as text":   mut(10, "2025-01-01"),
		"negative token": mut(9, int64(-1)),
	} {
		q := CandidateQuery{Now: time.Now(), Term: 1, Limit: 10, Quota: map[string]int{"s": 10}}
		if _, err := NewSQLStore(cannedSQL{rows: rows}).Candidates(ctx, q); !errors.Is(err, ErrBadRow) {
			t.Errorf("%s: Candidates = %v, want ErrBadRow", name, err)
		}
	}
	if _, err := NewSQLStore(cannedSQL{rows: [][]any{{"s", "u", nil, "8", nil, int64(1), int64(1)}}}).Sinks(ctx); !errors.Is(err, ErrBadRow) {
		t.Errorf("sinks with text max_attempts: %v", err)
	}
	if _, err := NewSQLStore(cannedSQL{err: ErrAmbiguous}).Apply(ctx, 1, KindAck, []Transition{{Kind: KindAck}}); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("Exec error not passed through: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("an UPDATE by primary key that changed 2 rows must crash")
		}
	}()
	_, _ = NewSQLStore(cannedSQL{aff: []int64{2}}).Apply(ctx, 1, KindAck, []Transition{{Kind: KindAck}})
}

func TestSQLStoreNowIsMonotonic(t *testing.T) {
	lite := newSQLiteSQL(t)
	store := NewSQLStore(lite)
	lite.block = time.Now().Add(time.Hour) // a previous leader's clock ran ahead
	a := store.Now()
	if a.Before(lite.block) {
		t.Fatalf("Now %v is before the block time %v", a, lite.block)
	}
	lite.block = time.Time{}
	if b := store.Now(); b.Before(a) {
		t.Fatalf("Now went backwards: %v then %v", a, b)
	}
}

// The dispatcher end to end on SQLStore over SQLite: delivery, retry,
// ordering, and an operator re-drive written in SQL.
func TestDispatcherOnSQLStore(t *testing.T) {
	lite := newSQLiteSQL(t)
	srv := newSinkServer(t)
	srv.respond = func(r received, n int) (int, map[string]string) {
		if r.id == "eff-000001" && n == 1 {
			return 503, nil
		}
		if r.id == "eff-000004" {
			return 500, nil
		}
		return 200, nil
	}
	lite.addSink(t, Sink{Name: "s", URL: srv.srv.URL, Secret: testSecret, MaxAttempts: 2, RetrySchedule: "20ms",
		Timeout: time.Second, Concurrency: 4})
	for i := 0; i < 3; i++ {
		lite.insert(t, Effect{Sink: "s", OrderingKey: "k", Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))})
	}
	lite.insert(t, Effect{Sink: "s"}) // eff-000004 will die
	lead := &fakeLeader{}
	lead.term.Store(7)
	lead.ok.Store(true)
	d, err := New(NewSQLStore(lite), lead, Options{Registerer: prometheus.NewRegistry(), JitterSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, 7) }()
	defer func() { cancel(); <-done }()
	for _, id := range []string{"eff-000001", "eff-000002", "eff-000003"} {
		waitFor(t, 10*time.Second, id+" delivered", func() bool { return lite.get(t, id).Status == StatusDelivered })
	}
	waitFor(t, 10*time.Second, "eff-000004 dead", func() bool { return lite.get(t, "eff-000004").Status == StatusDead })
	var order []string
	for _, r := range srv.requests() {
		if r.key == "k" {
			order = append(order, r.id)
		}
	}
	if strings.Join(order, ",") != "eff-000001,eff-000001,eff-000002,eff-000003" {
		t.Fatalf("ordering key delivered as %v", order)
	}
	if e := lite.get(t, "eff-000001"); e.Attempts != 2 || e.FencingToken != 7 || e.LastError != "http 503" {
		t.Fatalf("eff-000001: %+v", e)
	}
	srv.respond = nil
	lite.operator(t, "UPDATE chr2.effects SET status = 'pending', attempts = 0 WHERE id = 'eff-000004'")
	d.Notify()
	waitFor(t, 10*time.Second, "re-driven eff-000004 delivered", func() bool {
		return lite.get(t, "eff-000004").Status == StatusDelivered
	})
}
