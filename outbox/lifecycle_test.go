package outbox

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestClaim(t *testing.T) {
	past, future := t0.Add(-time.Second), t0.Add(time.Second)
	cases := []struct {
		name string
		e    Effect
		term uint64
		ok   bool
	}{
		{"pending", Effect{Status: StatusPending}, 3, true},
		{"pending run_at past", Effect{Status: StatusPending, RunAt: past}, 3, true},
		{"pending run_at now", Effect{Status: StatusPending, RunAt: t0}, 3, true},
		{"pending run_at future", Effect{Status: StatusPending, RunAt: future}, 3, false},
		{"retry due", Effect{Status: StatusRetry, Attempts: 2, FencingToken: 2, NextAttemptAt: past}, 3, true},
		{"retry not due", Effect{Status: StatusRetry, Attempts: 2, FencingToken: 2, NextAttemptAt: future}, 3, false},
		{"retry due but run_at future", Effect{Status: StatusRetry, NextAttemptAt: past, RunAt: future}, 3, false},
		{"retry stamped by a newer term", Effect{Status: StatusRetry, Attempts: 2, FencingToken: 4, NextAttemptAt: past}, 3, false},
		{"re-driven, token of this term", Effect{Status: StatusPending, Attempts: 8, FencingToken: 3}, 3, true},
		{"orphan of older term", Effect{Status: StatusInFlight, Attempts: 1, FencingToken: 2}, 3, true},
		{"in flight in this term", Effect{Status: StatusInFlight, Attempts: 1, FencingToken: 3}, 3, false},
		{"in flight in a newer term", Effect{Status: StatusInFlight, Attempts: 1, FencingToken: 4}, 3, false},
		{"delivered", Effect{Status: StatusDelivered, Attempts: 1, FencingToken: 2}, 3, false},
		{"dead", Effect{Status: StatusDead, Attempts: 8, FencingToken: 2}, 3, false},
		{"cancelled", Effect{Status: StatusCancelled}, 3, false},
		{"term zero", Effect{Status: StatusPending}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.e.ID = "e1"
			tr, err := Claim(c.e, c.term, t0)
			if !c.ok {
				if !errors.Is(err, ErrNotClaimable) {
					t.Fatalf("Claim = %+v, %v; want ErrNotClaimable", tr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Transition{EffectID: "e1", Kind: KindClaim,
				From: Expect{c.e.Status, c.e.Attempts, c.e.FencingToken},
				To:   StatusInFlight, Attempts: c.e.Attempts + 1, FencingToken: c.term, At: t0}
			if !equalTransition(tr, want) {
				t.Fatalf("Claim =\n %+v\nwant\n %+v", tr, want)
			}
			row := c.e
			if !tr.ApplyTo(&row) || row.Status != StatusInFlight || row.Attempts != c.e.Attempts+1 ||
				row.FencingToken != c.term || !row.ClaimedAt.Equal(t0) {
				t.Fatalf("ApplyTo left %+v", row)
			}
		})
	}
}

func equalTransition(a, b Transition) bool {
	return a.EffectID == b.EffectID && a.Kind == b.Kind && a.From == b.From && a.To == b.To &&
		a.Attempts == b.Attempts && a.FencingToken == b.FencingToken && a.At.Equal(b.At) &&
		a.NextAttemptAt.Equal(b.NextAttemptAt) && a.LastError == b.LastError
}

func TestAckIsCompareAndSet(t *testing.T) {
	claimed := Effect{ID: "e1", Status: StatusInFlight, Attempts: 2, FencingToken: 5}
	ack, err := Ack(claimed, 2, 5, t0)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]Effect{
		"current claim":          claimed,
		"re-claimed by term 6":   {ID: "e1", Status: StatusInFlight, Attempts: 3, FencingToken: 6},
		"reset re-drive, term 6": {ID: "e1", Status: StatusInFlight, Attempts: 2, FencingToken: 6},
		"already failed":         {ID: "e1", Status: StatusRetry, Attempts: 2, FencingToken: 5},
		"cancelled by operator":  {ID: "e1", Status: StatusCancelled, Attempts: 2, FencingToken: 5},
		"other effect same keys": {ID: "e2", Status: StatusInFlight, Attempts: 2, FencingToken: 5},
	}
	for name, row := range rows {
		before := row
		got := ack.ApplyTo(&row)
		want := name == "current claim"
		if got != want {
			t.Errorf("%s: applied = %v, want %v", name, got, want)
		}
		if !want && !reflect.DeepEqual(row, before) {
			t.Errorf("%s: a refused CAS changed the row: %+v", name, row)
		}
		if want && (row.Status != StatusDelivered || !row.DeliveredAt.Equal(t0) || row.Attempts != 2 || row.FencingToken != 5) {
			t.Errorf("%s: row after ack %+v", name, row)
		}
	}
	for _, bad := range []struct {
		attempt int
		term    uint64
	}{{1, 5}, {2, 4}, {3, 5}} {
		if _, err := Ack(claimed, bad.attempt, bad.term, t0); !errors.Is(err, ErrStaleAttempt) {
			t.Errorf("Ack(attempt %d, term %d) = %v, want ErrStaleAttempt", bad.attempt, bad.term, err)
		}
	}
}

func TestFail(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 3, Schedule: []time.Duration{10 * time.Second, time.Minute},
		JitterFraction: 0.2, MaxRetryAfter: time.Hour}
	row := func(n int) Effect {
		return Effect{ID: "e1", Status: StatusInFlight, Attempts: n, FencingToken: 7, LastError: "old"}
	}
	cases := []struct {
		name     string
		attempt  int
		f        Failure
		wantTo   Status
		wantNext time.Duration // -1: NULL
	}{
		{"first failure, no jitter", 1, Failure{Jitter: 0.5}, StatusRetry, 10 * time.Second},
		{"second failure, low jitter", 2, Failure{Jitter: 0}, StatusRetry, 48 * time.Second},
		{"last attempt", 3, Failure{Jitter: 0.5}, StatusDead, -1},
		{"permanent", 1, Failure{Permanent: true}, StatusDead, -1},
		{"retry-after wins", 1, Failure{Jitter: 0.5, RetryAfter: 30 * time.Second}, StatusRetry, 30 * time.Second},
		{"retry-after capped", 1, Failure{Jitter: 0.5, RetryAfter: 48 * time.Hour}, StatusRetry, time.Hour},
		{"retry-after shorter than schedule", 1, Failure{Jitter: 0.5, RetryAfter: time.Second}, StatusRetry, 10 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			f.Attempt, f.Term, f.Err = c.attempt, 7, "http 503: busy"
			tr, err := Fail(row(c.attempt), f, p, t0)
			if err != nil {
				t.Fatal(err)
			}
			if tr.To != c.wantTo || tr.LastError != "http 503: busy" ||
				tr.From != (Expect{StatusInFlight, c.attempt, 7}) {
				t.Fatalf("Fail = %+v", tr)
			}
			if c.wantNext < 0 {
				if !tr.NextAttemptAt.IsZero() {
					t.Fatalf("dead effect got next_attempt_at %v", tr.NextAttemptAt)
				}
			} else if got := tr.NextAttemptAt.Sub(t0); got != c.wantNext {
				t.Fatalf("next attempt after %v, want %v", got, c.wantNext)
			}
			r := row(c.attempt)
			if !tr.ApplyTo(&r) || r.Status != c.wantTo || r.Attempts != c.attempt || r.FencingToken != 7 {
				t.Fatalf("ApplyTo left %+v", r)
			}
		})
	}
	if _, err := Fail(row(2), Failure{Attempt: 1, Term: 7}, p, t0); !errors.Is(err, ErrStaleAttempt) {
		t.Fatalf("Fail for an old attempt = %v, want ErrStaleAttempt", err)
	}
}

func TestFailTruncatesLastError(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes, 2-byte runes
	tr, err := Fail(Effect{ID: "e", Status: StatusInFlight, Attempts: 1, FencingToken: 1},
		Failure{Attempt: 1, Term: 1, Err: long}, DefaultRetryPolicy(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.LastError) > maxLastErrorBytes || !strings.HasPrefix(long, tr.LastError) || len(tr.LastError)%2 != 0 {
		t.Fatalf("last_error of %d bytes not cut on a rune boundary", len(tr.LastError))
	}
}

func TestTimesAreMicrosecondUTC(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 123456789, time.FixedZone("X", 3600))
	tr, err := Claim(Effect{ID: "e", Status: StatusPending}, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if tr.At.Nanosecond() != 123456000 || tr.At.Location() != time.UTC {
		t.Fatalf("claimed_at = %v, want microsecond precision in UTC", tr.At)
	}
}

func TestSelectHeads(t *testing.T) {
	rows := []Effect{
		{ID: "a1", Seq: 1, OrderingKey: "a", Status: StatusDelivered},
		{ID: "a2", Seq: 2, OrderingKey: "a", Status: StatusPending},
		{ID: "a3", Seq: 3, OrderingKey: "a", Status: StatusPending},
		{ID: "b1", Seq: 4, OrderingKey: "b", Status: StatusDead},
		{ID: "b2", Seq: 5, OrderingKey: "b", Status: StatusPending},
		{ID: "n1", Seq: 6, Status: StatusPending},
		{ID: "c1", Seq: 7, OrderingKey: "c", Status: StatusCancelled},
		{ID: "c2", Seq: 8, OrderingKey: "c", Status: StatusRetry},
		{ID: "d1", Seq: 9, OrderingKey: "d", Status: StatusInFlight, FencingToken: 1},
		{ID: "d2", Seq: 10, OrderingKey: "d", Status: StatusPending},
	}
	var cands []Effect
	for _, r := range rows {
		if Claimable(r, 2, t0) {
			cands = append(cands, r)
		}
	}
	var got []string
	for _, e := range SelectHeads(cands, headsOf(rows)) {
		got = append(got, e.ID)
	}
	want := "a2 n1 c2 d1" // b blocked by a dead head, d2 behind its in-flight orphan
	if strings.Join(got, " ") != want {
		t.Fatalf("heads = %v, want %s", got, want)
	}
	if out := SelectHeads([]Effect{{ID: "x", Seq: 1, OrderingKey: "x"}}, nil); len(out) != 0 {
		t.Fatalf("a key missing from heads must wait, got %v", out)
	}
}
