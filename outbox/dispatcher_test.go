package outbox

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/examples/receiver/receiver"
)

const testSecret = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

func TestDeliveryHeadersAndSignature(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	h.sink("hooks", srv.srv.URL, func(s *Sink) { s.Secret = testSecret })
	h.start(4)
	e := h.commit(Effect{Sink: "hooks", Payload: []byte(`{"order":17}`), OrderingKey: "cust-9"})
	row := h.waitStatus(e.ID, StatusDelivered)
	if row.Attempts != 1 || row.FencingToken != 4 || row.DeliveredAt.IsZero() || row.ClaimedAt.IsZero() {
		t.Fatalf("row after delivery: %+v", row)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	want := map[string]string{
		"Content-Type": "application/json", "webhook-id": e.ID, "Idempotency-Key": e.ID,
		"Chr2-Fencing-Token": "4", "Chr2-Attempt": "1", "Chr2-Ordering-Key": "cust-9",
	}
	for k, v := range want {
		if r.header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, r.header.Get(k), v)
		}
	}
	if string(r.body) != `{"order":17}` {
		t.Errorf("body %q", r.body)
	}
	ts, err := strconv.ParseInt(r.ts, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		t.Errorf("webhook-timestamp %q is not a current unix time", r.ts)
	}
	// Verify with the example receiver's independent verifier.
	key, _ := receiver.DecodeSecret(string(testSecret))
	if err := receiver.Verify(key, r.id, r.ts, r.sig, r.body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if h.metric("chr2_outbox_deliveries_total", "hooks") != 1 || h.metric("chr2_outbox_attempts_total", "hooks") != 1 {
		t.Errorf("metrics: deliveries %v attempts %v", h.metric("chr2_outbox_deliveries_total", "hooks"),
			h.metric("chr2_outbox_attempts_total", "hooks"))
	}
}

// The dispatcher against the example receiver: the two halves of the
// contract agree (signature, dedupe, ledger).
func TestDeliveryToExampleReceiver(t *testing.T) {
	rcv, err := receiver.New(receiver.Config{Secret: string(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	h := newHarness(t, Options{})
	h.sink("rcv", srv.URL, func(s *Sink) { s.Secret = testSecret })
	h.start(2)
	var ids []string
	for i := 0; i < 20; i++ {
		ids = append(ids, h.commit(Effect{Sink: "rcv"}).ID)
	}
	for _, id := range ids {
		h.waitStatus(id, StatusDelivered)
	}
	got := rcv.Received()
	if len(got) != 20 || rcv.Stats().Rejected != 0 || rcv.Stats().HighestToken != 2 {
		t.Fatalf("receiver got %d deliveries, stats %+v", len(got), rcv.Stats())
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	srv.respond = func(r received, n int) (int, map[string]string) {
		if n == 1 {
			return 503, map[string]string{"Retry-After": "1"}
		}
		return 200, nil
	}
	h.sink("s", srv.srv.URL, func(s *Sink) { s.RetrySchedule = "10ms" })
	h.start(1)
	e := h.commit(Effect{Sink: "s"})
	waitFor(t, 5*time.Second, "first failure recorded", func() bool { return h.store.get(e.ID).Status == StatusRetry })
	row := h.store.get(e.ID)
	if row.Attempts != 1 || !strings.HasPrefix(row.LastError, "http 503") {
		t.Fatalf("after the 503: %+v", row)
	}
	if wait := row.NextAttemptAt.Sub(row.ClaimedAt); wait < 900*time.Millisecond || wait > 5*time.Second {
		t.Fatalf("next_attempt_at %v after the claim; Retry-After: 1 not honoured", wait)
	}
	row = h.waitStatus(e.ID, StatusDelivered)
	reqs := srv.requests()
	if len(reqs) != 2 || row.Attempts != 2 || reqs[1].attempt != 2 {
		t.Fatalf("requests %d, row %+v", len(reqs), row)
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < 900*time.Millisecond {
		t.Fatalf("retried after %v despite Retry-After: 1", gap)
	}
	if reqs[0].id != reqs[1].id {
		t.Fatal("a retry must carry the same webhook-id")
	}
	if h.metric("chr2_outbox_failures_total", "s") != 1 {
		t.Fatalf("failures metric %v", h.metric("chr2_outbox_failures_total", "s"))
	}
}

func TestDeadLetterAfterMaxAttempts(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	srv.respond = func(received, int) (int, map[string]string) { return 500, nil }
	h.sink("s", srv.srv.URL, func(s *Sink) { s.MaxAttempts = 3; s.RetrySchedule = "5ms,10ms" })
	h.start(1)
	e := h.commit(Effect{Sink: "s"})
	row := h.waitStatus(e.ID, StatusDead)
	if row.Attempts != 3 || !strings.HasPrefix(row.LastError, "http 500") || !row.NextAttemptAt.IsZero() {
		t.Fatalf("dead row %+v", row)
	}
	if n := srv.count(); n != 3 {
		t.Fatalf("sink got %d requests, want 3", n)
	}
	if h.metric("chr2_outbox_dead_letters_total", "s") != 1 {
		t.Fatal("dead letter not counted")
	}
}

func TestOrderingKeySerialization(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	var firstID string
	srv.respond = func(r received, n int) (int, map[string]string) {
		if r.id == firstID && n == 1 {
			return 500, nil // the head fails once; the rest must wait for it
		}
		return 200, nil
	}
	h.sink("s", srv.srv.URL, func(s *Sink) { s.Concurrency = 16; s.RetrySchedule = "30ms" })
	var ids []string
	for i := 0; i < 6; i++ {
		e := h.store.insert(Effect{Sink: "s", OrderingKey: "k"})
		ids = append(ids, e.ID)
		h.store.insert(Effect{Sink: "s", OrderingKey: fmt.Sprintf("other-%d", i)})
	}
	firstID = ids[0]
	h.start(1)
	h.d.Notify()
	for _, id := range ids {
		h.waitStatus(id, StatusDelivered)
	}
	var order []string
	for _, r := range srv.requests() {
		if r.key == "k" {
			order = append(order, r.id)
		}
	}
	want := append([]string{ids[0]}, ids...)
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("key k delivered in order %v, want %v", order, want)
	}
	if srv.keyMax != 1 {
		t.Fatalf("%d requests of one ordering key were in flight at once", srv.keyMax)
	}
}

func TestDeadHeadBlocksItsKeyUntilRedriven(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	healthy := make(chan struct{})
	srv.respond = func(r received, n int) (int, map[string]string) {
		select {
		case <-healthy:
			return 200, nil
		default:
			return 500, nil
		}
	}
	h.sink("s", srv.srv.URL, func(s *Sink) { s.MaxAttempts = 1 })
	h.start(1)
	head := h.commit(Effect{Sink: "s", OrderingKey: "k"})
	next := h.commit(Effect{Sink: "s", OrderingKey: "k"})
	free := h.commit(Effect{Sink: "s"})
	h.waitStatus(head.ID, StatusDead)
	h.waitStatus(free.ID, StatusDead) // unkeyed effects are independent
	// The dispatcher has gone idle; the blocked effect must still be pending.
	rounds := h.store.candCalls.Load()
	h.d.Notify()
	waitFor(t, 5*time.Second, "another claim round", func() bool { return h.store.candCalls.Load() > rounds })
	if srv.count() != 2 {
		t.Fatalf("%d requests, want 2 (one per unblocked effect)", srv.count())
	}
	if got := h.store.get(next.ID); got.Status != StatusPending || got.Attempts != 0 {
		t.Fatalf("effect behind a dead head was touched: %+v", got)
	}
	close(healthy)
	h.store.update(head.ID, func(e *Effect) { e.Status = StatusPending }) // operator re-drive
	h.d.Notify()
	h.waitStatus(head.ID, StatusDelivered)
	row := h.waitStatus(next.ID, StatusDelivered)
	if row.Attempts != 1 {
		t.Fatalf("next: %+v", row)
	}
	// Cancel also unblocks.
	h2 := h.commit(Effect{Sink: "s", OrderingKey: "k2", RunAt: time.Now().Add(time.Hour)})
	n2 := h.commit(Effect{Sink: "s", OrderingKey: "k2"})
	h.store.update(h2.ID, func(e *Effect) { e.Status = StatusCancelled })
	h.d.Notify()
	h.waitStatus(n2.ID, StatusDelivered)
}

func TestRunAtWaits(t *testing.T) {
	h := newHarness(t, Options{MaxIdle: time.Hour}) // only the due time can wake it
	srv := newSinkServer(t)
	h.sink("s", srv.srv.URL, nil)
	h.start(1)
	runAt := time.Now().Add(400 * time.Millisecond)
	e := h.commit(Effect{Sink: "s", RunAt: runAt})
	now := h.commit(Effect{Sink: "s"})
	h.waitStatus(now.ID, StatusDelivered)
	if got := h.store.get(e.ID); got.Status != StatusPending {
		t.Fatalf("effect with run_at in the future is %s", got.Status)
	}
	h.waitStatus(e.ID, StatusDelivered)
	for _, r := range srv.requests() {
		if r.id == e.ID && r.at.Before(runAt) {
			t.Fatalf("delivered %v before run_at", runAt.Sub(r.at))
		}
	}
}

func TestLeadershipLostBeforeSend(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	h.sink("s", srv.srv.URL, nil)
	e := h.store.insert(Effect{Sink: "s"})
	// Raft has not cancelled the Run yet, but StillLeader already says no.
	r := h.start(3)
	h.lead.ok.Store(false)
	h.d.Notify()
	if err := r.wait(t, 5*time.Second); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Run = %v, want ErrNotLeader", err)
	}
	if n := srv.count(); n != 0 {
		t.Fatalf("%d requests sent after leadership was lost", n)
	}
	row := h.store.get(e.ID)
	if row.Status != StatusInFlight || row.FencingToken != 3 || row.Attempts != 1 || row.LastError != "" {
		t.Fatalf("row %+v; want in_flight under token 3 for the next leader", row)
	}
	// The next leader re-claims the orphan and delivers it once.
	h.start(5)
	h.d.Notify()
	row = h.waitStatus(e.ID, StatusDelivered)
	if row.FencingToken != 5 || row.Attempts != 2 || srv.count() != 1 || srv.requests()[0].token != 5 {
		t.Fatalf("after failover: %+v, %d requests", row, srv.count())
	}
	if h.metric("chr2_outbox_possible_duplicates_total", "") != 1 {
		t.Fatal("an orphan re-claim must count as a possible duplicate")
	}
}

func TestFencedStops(t *testing.T) {
	h := newHarness(t, Options{})
	var arrived atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client hanging up
		arrived.Add(1)
		if r.Header.Get(HeaderAttempt) != "" && r.Header.Get(HeaderWebhookID) == "eff-000001" {
			// Fence only once the other attempt is in flight, so stopping
			// must cancel it.
			for arrived.Load() < 2 && r.Context().Err() == nil {
				runtime.Gosched()
			}
			w.Header().Set(HeaderFenced, "true")
			w.WriteHeader(http.StatusConflict)
			return
		}
		<-r.Context().Done() // hangs until the dispatcher cancels it
	}))
	defer srv.Close()
	h.sink("s", srv.URL, func(s *Sink) { s.Concurrency = 2 })
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, h.store.insert(Effect{Sink: "s"}).ID)
	}
	r := h.start(2)
	h.d.Notify()
	if err := r.wait(t, 5*time.Second); !errors.Is(err, ErrFenced) {
		t.Fatalf("Run = %v, want ErrFenced", err)
	}
	if n := arrived.Load(); n != 2 {
		t.Fatalf("%d requests, want 2 (nothing new after the 409 Chr2-Fenced)", n)
	}
	for _, id := range ids[:2] {
		if row := h.store.get(id); row.Status != StatusInFlight || row.LastError != "" {
			t.Fatalf("fenced or cancelled attempt was recorded: %+v", row)
		}
	}
	for _, id := range ids[2:] {
		if s := h.store.get(id).Status; s != StatusPending {
			t.Fatalf("%s is %s; nothing else may be claimed after fencing", id, s)
		}
	}
	if calls, _ := h.store.applyCount(KindFail); calls != 0 {
		t.Fatal("a fail entry was written for a fenced or cancelled attempt")
	}
	if h.metric("chr2_outbox_fenced_total", "s") != 1 {
		t.Fatal("fenced response not counted")
	}
}

func TestConcurrencyBoundPerSink(t *testing.T) {
	h := newHarness(t, Options{})
	a, b := newSinkServer(t), newSinkServer(t)
	a.gate, b.gate = make(chan struct{}), make(chan struct{})
	h.sink("a", a.srv.URL, func(s *Sink) { s.Concurrency = 3 })
	h.sink("b", b.srv.URL, func(s *Sink) { s.Concurrency = 2 })
	var ids []string
	for i := 0; i < 15; i++ {
		ids = append(ids, h.store.insert(Effect{Sink: "a"}).ID, h.store.insert(Effect{Sink: "b"}).ID)
	}
	h.start(1)
	h.d.Notify()
	waitFor(t, 5*time.Second, "both sinks at their limit", func() bool { return a.cur.Load() == 3 && b.cur.Load() == 2 })
	for released := 0; released < 30; released++ {
		select {
		case a.gate <- struct{}{}:
		case b.gate <- struct{}{}:
		case <-time.After(5 * time.Second):
			t.Fatal("no request waiting at either sink")
		}
	}
	for _, id := range ids {
		h.waitStatus(id, StatusDelivered)
	}
	if a.maxCur.Load() != 3 || b.maxCur.Load() != 2 {
		t.Fatalf("max concurrent requests a=%d (limit 3) b=%d (limit 2)", a.maxCur.Load(), b.maxCur.Load())
	}
}

func TestSlowSinkDoesNotStarveOthers(t *testing.T) {
	h := newHarness(t, Options{ClaimBatch: 16})
	slow, fast := newSinkServer(t), newSinkServer(t)
	slow.gate = make(chan struct{}) // never answers while the test looks
	h.sink("slow", slow.srv.URL, func(s *Sink) { s.Concurrency = 2 })
	h.sink("fast", fast.srv.URL, nil)
	for i := 0; i < 300; i++ {
		h.store.insert(Effect{Sink: "slow"})
	}
	e := h.store.insert(Effect{Sink: "fast"})
	firstClaim := make(chan []string, 1)
	h.store.onApply = func(kind string, ts []Transition, _ []bool) {
		if kind == KindClaim {
			var ids []string
			for _, t := range ts {
				ids = append(ids, t.EffectID)
			}
			select {
			case firstClaim <- ids:
			default:
			}
		}
	}
	h.start(1)
	h.d.Notify()
	h.waitStatus(e.ID, StatusDelivered)
	// Not just eventually: the very first claim entry already serves both.
	if ids := <-firstClaim; len(ids) != 3 || ids[2] != e.ID {
		t.Fatalf("first claim entry %v; want 2 of slow's and fast's effect", ids)
	}
	if n := slow.cur.Load(); n != 2 {
		t.Fatalf("slow sink has %d requests in flight, want its concurrency 2", n)
	}
	close(slow.gate)
}

func TestBatching(t *testing.T) {
	h := newHarness(t, Options{FlushLinger: 50 * time.Millisecond})
	srv := newSinkServer(t)
	h.sink("s", srv.srv.URL, func(s *Sink) { s.Concurrency = 100 })
	var ids []string
	for i := 0; i < 100; i++ {
		ids = append(ids, h.store.insert(Effect{Sink: "s"}).ID)
	}
	h.start(1)
	h.d.Notify()
	for _, id := range ids {
		h.waitStatus(id, StatusDelivered)
	}
	claims, claimed := h.store.applyCount(KindClaim)
	acks, acked := h.store.applyCount(KindAck)
	if claimed != 100 || acked != 100 {
		t.Fatalf("claimed %d, acked %d", claimed, acked)
	}
	t.Logf("100 effects: %d claim entries, %d ack entries", claims, acks)
	if claims > 2 || acks > 10 {
		t.Fatalf("100 effects took %d claim and %d ack entries; batching is not working", claims, acks)
	}
}

func TestCancelStopsUnsentAttempts(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	srv.gate = make(chan struct{}) // never released: requests hang
	h.sink("s", srv.srv.URL, func(s *Sink) { s.Concurrency = 2 })
	e := h.commit(Effect{Sink: "s"})
	r := h.start(1)
	h.d.Notify()
	waitFor(t, 5*time.Second, "request in flight", func() bool { return srv.cur.Load() == 1 })
	if err := r.stop(t); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	row := h.store.get(e.ID)
	if row.Status != StatusInFlight || row.LastError != "" {
		t.Fatalf("cancelled attempt left %+v; want in_flight, unrecorded", row)
	}
	if calls, _ := h.store.applyCount(KindFail); calls != 0 {
		t.Fatal("a cancelled attempt was recorded as a failure")
	}
}

func TestAmbiguousClaimSendsNothing(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	h.sink("s", srv.srv.URL, nil)
	e := h.store.insert(Effect{Sink: "s"})
	h.store.hook = func(kind string, ts []Transition) error {
		if kind == KindClaim {
			// The entry commits but the proposer cannot know it.
			for _, t := range ts {
				t.ApplyTo(h.store.byID[t.EffectID])
			}
			return ErrAmbiguous
		}
		return nil
	}
	r := h.start(1)
	h.d.Notify()
	if err := r.wait(t, 5*time.Second); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("Run = %v, want ErrAmbiguous", err)
	}
	if srv.count() != 0 || h.store.get(e.ID).Status != StatusInFlight {
		t.Fatalf("after an ambiguous claim: %d requests, row %+v", srv.count(), h.store.get(e.ID))
	}
}

func TestBadSinkConfigIsSkipped(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	h.sink("good", srv.srv.URL, nil)
	h.sink("bad", srv.srv.URL, func(s *Sink) { s.RetrySchedule = "every so often" })
	h.sink("badsecret", srv.srv.URL, func(s *Sink) { s.Secret = "whsec_%%%" })
	bad := h.store.insert(Effect{Sink: "bad"})
	bs := h.store.insert(Effect{Sink: "badsecret"})
	good := h.store.insert(Effect{Sink: "good"})
	h.start(1)
	h.d.Notify()
	h.waitStatus(good.ID, StatusDelivered)
	if h.store.get(bad.ID).Status != StatusPending || h.store.get(bs.ID).Status != StatusPending {
		t.Fatal("effects of a misconfigured sink must stay pending")
	}
	// Fixing the configuration (an UPDATE on chr2.sinks) lets them flow.
	h.sink("bad", srv.srv.URL, func(s *Sink) { s.RetrySchedule = "1s" })
	h.d.Notify()
	h.waitStatus(bad.ID, StatusDelivered)
}

func TestPayloadOverLimitIsDeadLettered(t *testing.T) {
	h := newHarness(t, Options{MaxPayloadBytes: 16})
	srv := newSinkServer(t)
	h.sink("s", srv.srv.URL, nil)
	h.start(1)
	e := h.commit(Effect{Sink: "s", Payload: []byte(`{"x":"` + strings.Repeat("y", 32) + `"}`)})
	row := h.waitStatus(e.ID, StatusDead)
	if srv.count() != 0 || !strings.Contains(row.LastError, "exceeds") || row.Attempts != 1 {
		t.Fatalf("oversized payload: %d requests, row %+v", srv.count(), row)
	}
}

func TestStaleAckFromDeposedLeaderChangesNothing(t *testing.T) {
	h := newHarness(t, Options{})
	srv := newSinkServer(t)
	h.sink("s", srv.srv.URL, nil)
	e := h.store.insert(Effect{Sink: "s"})
	// Old leader (term 2) claims; then term 3 re-claims the orphan.
	now := h.store.Now()
	c2, _ := Claim(h.store.get(e.ID), 2, now)
	if ok, _ := h.store.Apply(t.Context(), 2, KindClaim, []Transition{c2}); !ok[0] {
		t.Fatal("claim in term 2 did not apply")
	}
	claimed2 := h.store.get(e.ID)
	c3, _ := Claim(claimed2, 3, now)
	if ok, _ := h.store.Apply(t.Context(), 3, KindClaim, []Transition{c3}); !ok[0] {
		t.Fatal("re-claim in term 3 did not apply")
	}
	staleAck, _ := Ack(claimed2, 1, 2, now)
	ok, _ := h.store.Apply(t.Context(), 2, KindAck, []Transition{staleAck})
	if ok[0] {
		t.Fatal("stale ack from term 2 was accepted")
	}
	if row := h.store.get(e.ID); row.Status != StatusInFlight || row.FencingToken != 3 || row.Attempts != 2 {
		t.Fatalf("stale ack changed the row: %+v", row)
	}
}
