package outbox

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

var (
	propSeed = flag.Uint64("outbox.seed", 0, "replay the lifecycle property test with this seed")
	propRuns = flag.Int("outbox.runs", 0, "lifecycle property runs (default 150, or $OUTBOX_PROPERTY_RUNS)")
)

// TestLifecycleProperty drives random interleavings of commits, claims,
// acks, failures, stale outcomes from deposed leaders, ambiguous claims,
// leader changes, clock jumps and operator re-drives/cancels through the
// pure lifecycle (Claim/Ack/Fail, SelectHeads, Transition.ApplyTo) on a
// model of chr2.effects, checking the G7 invariants after every step.
func TestLifecycleProperty(t *testing.T) {
	runs := 150
	if *propRuns > 0 {
		runs = *propRuns
	} else if v, err := strconv.Atoi(os.Getenv("OUTBOX_PROPERTY_RUNS")); err == nil && v > 0 {
		runs = v
	}
	seed := *propSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	} else {
		runs = 1
	}
	t.Logf("seed %d (replay: go test ./outbox -run TestLifecycleProperty -outbox.seed=<seed of the failing run>)", seed)
	var total propStats
	for i := 0; i < runs; i++ {
		s := seed + uint64(i)
		m := newModel(t, s)
		m.play(400)
		m.drain()
		m.checkFinal()
		if t.Failed() {
			t.Fatalf("failing run seed %d", s)
		}
		total.add(m.stats)
	}
	t.Logf("%d runs: %+v", runs, total)
	// The interesting interleavings must actually occur, or the test proves
	// nothing.
	if runs >= 50 && (total.staleRefused == 0 || total.staleClaimsApplied == 0 || total.orphanReclaims == 0 ||
		total.dead == 0 || total.redrives == 0 || total.resets == 0 || total.heldBehindDead == 0 || total.staleAcksApplied == 0) {
		t.Fatalf("the random schedule missed a case: %+v", total)
	}
}

type propStats struct {
	staleRefused       int // outcomes of superseded attempts, refused by the CAS
	staleAcksApplied   int // outcomes from a deposed leader still current, applied
	staleClaimsApplied int // deposed leader's claims that matched (ambiguous orphans)
	orphanReclaims     int
	dead               int
	redrives           int
	resets             int
	heldBehindDead     int
	delivered          int
}

func (p *propStats) add(q propStats) {
	p.staleRefused += q.staleRefused
	p.staleAcksApplied += q.staleAcksApplied
	p.staleClaimsApplied += q.staleClaimsApplied
	p.orphanReclaims += q.orphanReclaims
	p.dead += q.dead
	p.redrives += q.redrives
	p.resets += q.resets
	p.heldBehindDead += q.heldBehindDead
	p.delivered += q.delivered
}

type claimRef struct {
	attempt int
	term    uint64
}

type pmodel struct {
	t       *testing.T
	seed    uint64
	rnd     *rand.Rand
	rows    []*Effect // seq order
	byID    map[string]*Effect
	policy  map[string]RetryPolicy // by sink
	term    uint64
	now     time.Time
	pending []outstanding       // attempts sent and not yet answered
	claims  map[string]claimRef // last applied claim per effect
	sent    map[string]map[claimRef]bool
	failedN map[string]int // attempt number of the last applied failure
	maxAtt  map[string]int
	maxTok  map[string]uint64
	stats   propStats
	views   map[uint64][]Effect // each deposed leader's last view of the table
}

type outstanding struct {
	claimed Effect // the row as the claim left it
}

func newModel(t *testing.T, seed uint64) *pmodel {
	m := &pmodel{
		t: t, seed: seed, rnd: rand.New(rand.NewPCG(seed, seed^0xabcdef)),
		byID: make(map[string]*Effect), term: 1, now: t0,
		claims: make(map[string]claimRef), sent: make(map[string]map[claimRef]bool),
		failedN: make(map[string]int), maxAtt: make(map[string]int), maxTok: make(map[string]uint64),
		views: make(map[uint64][]Effect),
		policy: map[string]RetryPolicy{
			"one":   {MaxAttempts: 1, Schedule: []time.Duration{time.Second}, JitterFraction: 0.2, MaxRetryAfter: time.Minute},
			"three": {MaxAttempts: 3, Schedule: []time.Duration{time.Second, 5 * time.Second}, JitterFraction: 0.2, MaxRetryAfter: time.Minute},
			"five":  {MaxAttempts: 5, Schedule: []time.Duration{2 * time.Second}, JitterFraction: 0.1, MaxRetryAfter: time.Minute},
		},
	}
	return m
}

func (m *pmodel) failf(format string, args ...any) {
	m.t.Helper()
	m.t.Errorf("seed %d term %d: %s", m.seed, m.term, fmt.Sprintf(format, args...))
}

func (m *pmodel) play(steps int) {
	for i := 0; i < steps && !m.t.Failed(); i++ {
		switch p := m.rnd.IntN(100); {
		case p < 25:
			m.commit()
		case p < 45:
			m.claimRound(m.term, m.snapshot(), m.rnd.IntN(10) == 0)
		case p < 70:
			m.outcome()
		case p < 75:
			// Leader change: outstanding attempts of the old term are now stale.
			m.views[m.term] = m.snapshot()
			m.term++
		case p < 80:
			m.staleClaim()
		case p < 92:
			m.now = m.now.Add(time.Duration(m.rnd.IntN(6000)) * time.Millisecond)
		default:
			m.operator()
		}
		m.checkRows()
	}
}

func (m *pmodel) commit() {
	sinks := []string{"one", "three", "five"}
	e := &Effect{
		ID: fmt.Sprintf("e%04d", len(m.rows)+1), Seq: int64(len(m.rows) + 1),
		Sink: sinks[m.rnd.IntN(3)], Status: StatusPending, CreatedAt: m.now,
	}
	if m.rnd.IntN(3) == 0 {
		e.OrderingKey = fmt.Sprintf("k%d", m.rnd.IntN(3))
	}
	if m.rnd.IntN(5) == 0 {
		e.RunAt = m.now.Add(time.Duration(m.rnd.IntN(10)) * time.Second)
	}
	m.rows = append(m.rows, e)
	m.byID[e.ID] = e
}

func (m *pmodel) snapshot() []Effect {
	out := make([]Effect, len(m.rows))
	for i, r := range m.rows {
		out[i] = *r
	}
	return out
}

// claimRound is the leader of term claiming a random subset of the
// candidates it sees in view, in one entry, applied to the real rows through
// the CAS. ambiguous: the entry applies but the proposer never learns it, so
// it sends nothing.
func (m *pmodel) claimRound(term uint64, all []Effect, ambiguous bool) {
	var cands []Effect
	for _, e := range all {
		if Claimable(e, term, m.now) {
			cands = append(cands, e)
		}
	}
	var ts []Transition
	for _, c := range SelectHeads(cands, headsOf(all)) {
		if m.rnd.IntN(4) == 0 {
			continue
		}
		tr, err := Claim(c, term, m.now)
		if err != nil {
			m.failf("Claim refused a candidate: %v", err)
			return
		}
		ts = append(ts, tr)
	}
	for _, tr := range ts {
		row := m.byID[tr.EffectID]
		before := *row
		if !tr.ApplyTo(row) {
			if term == m.term {
				m.failf("claim of %s built from the current rows did not apply", tr.EffectID)
			}
			continue // a stale view: the CAS refused it
		}
		m.checkClaim(before)
		if term != m.term {
			m.stats.staleClaimsApplied++
		}
		m.claims[row.ID] = claimRef{row.Attempts, term}
		if ambiguous || term != m.term {
			continue
		}
		// The leader sends only claims that applied in its current term.
		if m.sent[row.ID] == nil {
			m.sent[row.ID] = make(map[claimRef]bool)
		}
		m.sent[row.ID][claimRef{row.Attempts, term}] = true
		m.pending = append(m.pending, outstanding{claimed: *row})
	}
}

// checkClaim: the row was due (or an orphan) and, if keyed, had no
// unfinished predecessor. Written from the rules, not from Claimable.
func (m *pmodel) checkClaim(claimed Effect) {
	switch claimed.Status {
	case StatusPending, StatusRetry:
		if claimed.RunAt.After(m.now) || claimed.NextAttemptAt.After(m.now) {
			m.failf("claimed %s before it was due (run_at %v, next %v, now %v)", claimed.ID,
				claimed.RunAt, claimed.NextAttemptAt, m.now)
		}
	case StatusInFlight:
		m.stats.orphanReclaims++
	default:
		m.failf("claimed %s in state %s", claimed.ID, claimed.Status)
	}
	if claimed.OrderingKey == "" {
		return
	}
	for _, r := range m.rows {
		if r.Seq >= claimed.Seq {
			return
		}
		if r.OrderingKey == claimed.OrderingKey && r.Status.Unfinished() {
			m.failf("claimed %s (key %s) while %s (seq %d) is %s", claimed.ID, claimed.OrderingKey, r.ID, r.Seq, r.Status)
		}
	}
}

// staleClaim: a deposed leader's claim entry, built from its last view,
// applied late — more adversarial than raft allows (log terms never
// decrease), to show the CAS alone keeps rows from moving backwards.
func (m *pmodel) staleClaim() {
	if m.term < 2 {
		return
	}
	old := uint64(1 + m.rnd.IntN(int(m.term-1)))
	if view, ok := m.views[old]; ok {
		m.claimRound(old, view, true)
	}
}

func (m *pmodel) outcome() {
	if len(m.pending) == 0 {
		return
	}
	i := m.rnd.IntN(len(m.pending))
	o := m.pending[i]
	m.pending = append(m.pending[:i], m.pending[i+1:]...)
	e := o.claimed
	ref := claimRef{e.Attempts, e.FencingToken}
	if m.rnd.IntN(20) == 0 {
		return // 409 Chr2-Fenced or a crash: nothing recorded
	}
	var tr Transition
	var err error
	if m.rnd.IntN(10) < 7 {
		tr, err = Ack(e, e.Attempts, e.FencingToken, m.now)
	} else {
		f := Failure{Attempt: e.Attempts, Term: e.FencingToken, Err: "http 500", Jitter: m.rnd.Float64()}
		if m.rnd.IntN(4) == 0 {
			f.RetryAfter = time.Duration(m.rnd.IntN(120)) * time.Second
		}
		tr, err = Fail(e, f, m.policy[e.Sink], m.now)
	}
	if err != nil {
		m.failf("outcome for our own claim refused: %v", err)
		return
	}
	row := m.byID[e.ID]
	current := m.claims[e.ID] == ref && row.Status == StatusInFlight
	applied := tr.ApplyTo(row)
	if applied != current {
		m.failf("%s outcome for %s attempt %d term %d: applied=%v but current claim=%v (row %s, claim %+v)",
			tr.Kind, e.ID, ref.attempt, ref.term, applied, current, row.Status, m.claims[e.ID])
	}
	if !applied {
		m.stats.staleRefused++
		return
	}
	if ref.term != m.term {
		m.stats.staleAcksApplied++
	}
	if !m.sent[e.ID][ref] {
		m.failf("%s recorded for %s attempt %d term %d that was never sent", tr.Kind, e.ID, ref.attempt, ref.term)
	}
	if tr.Kind == KindFail {
		m.failedN[e.ID] = ref.attempt
	}
}

// operator re-drives a dead effect or cancels an unfinished one.
func (m *pmodel) operator() {
	if len(m.rows) == 0 {
		return
	}
	r := m.rows[m.rnd.IntN(len(m.rows))]
	switch {
	case r.Status == StatusDead:
		// Re-drive; half the time with the whole schedule again. A reset
		// makes attempt numbers repeat, so only the fencing token in the
		// CAS tells a stale outcome from the current one.
		r.Status = StatusPending
		m.stats.redrives++
		if m.rnd.IntN(2) == 0 {
			r.Attempts = 0
			m.maxAtt[r.ID] = 0
			m.stats.resets++
		}
	case r.Status.Unfinished() && m.rnd.IntN(3) == 0:
		r.Status = StatusCancelled
	}
}

// checkRows: attempts and tokens never decrease; states are valid.
func (m *pmodel) checkRows() {
	for _, r := range m.rows {
		if !r.Status.Valid() {
			m.failf("%s has invalid status %q", r.ID, r.Status)
		}
		if r.Attempts < m.maxAtt[r.ID] || r.FencingToken < m.maxTok[r.ID] {
			m.failf("%s went backwards: attempts %d (was %d), token %d (was %d)",
				r.ID, r.Attempts, m.maxAtt[r.ID], r.FencingToken, m.maxTok[r.ID])
		}
		m.maxAtt[r.ID], m.maxTok[r.ID] = r.Attempts, r.FencingToken
		if r.Status == StatusInFlight && r.FencingToken == 0 {
			m.failf("%s in flight without a token", r.ID)
		}
	}
}

// drain: a new honest leader whose sinks now always succeed runs until
// nothing is claimable, jumping the clock to each due time.
func (m *pmodel) drain() {
	m.term++
	m.pending = nil
	for round := 0; round < 10000 && !m.t.Failed(); round++ {
		m.claimRoundAll()
		for len(m.pending) > 0 {
			e := m.pending[0].claimed
			m.pending = m.pending[1:]
			tr, _ := Ack(e, e.Attempts, e.FencingToken, m.now)
			if !tr.ApplyTo(m.byID[e.ID]) {
				m.failf("drain: ack of %s did not apply", e.ID)
			}
		}
		m.checkRows()
		next := time.Time{}
		for _, r := range m.rows {
			if r.Status == StatusPending || r.Status == StatusRetry {
				for _, d := range []time.Time{r.RunAt, r.NextAttemptAt} {
					if d.After(m.now) && (next.IsZero() || d.Before(next)) {
						next = d
					}
				}
			}
		}
		if next.IsZero() && !m.anyClaimable() {
			return
		}
		if !next.IsZero() {
			m.now = next
		}
	}
	m.failf("drain did not converge")
}

func (m *pmodel) claimRoundAll() {
	all := m.snapshot()
	var cands []Effect
	for _, e := range all {
		if Claimable(e, m.term, m.now) {
			cands = append(cands, e)
		}
	}
	for _, c := range SelectHeads(cands, headsOf(all)) {
		tr, _ := Claim(c, m.term, m.now)
		row := m.byID[c.ID]
		before := *row
		if tr.ApplyTo(row) {
			m.checkClaim(before)
			m.claims[row.ID] = claimRef{row.Attempts, m.term}
			m.sent[row.ID] = map[claimRef]bool{{row.Attempts, m.term}: true}
			m.pending = append(m.pending, outstanding{claimed: *row})
		}
	}
}

func (m *pmodel) anyClaimable() bool {
	all := m.snapshot()
	var cands []Effect
	for _, e := range all {
		if Claimable(e, m.term, m.now) {
			cands = append(cands, e)
		}
	}
	return len(SelectHeads(cands, headsOf(all))) > 0
}

// checkFinal: nothing lost. Every effect is delivered, cancelled, dead after
// a recorded failure at its last allowed attempt, or still deliverable but
// held behind a dead head of its ordering key.
func (m *pmodel) checkFinal() {
	deadKeys := make(map[string]int64)
	for _, r := range m.rows {
		switch r.Status {
		case StatusDelivered:
			m.stats.delivered++
		case StatusCancelled:
		case StatusDead:
			m.stats.dead++
			if n := m.failedN[r.ID]; n < m.policy[r.Sink].MaxAttempts || n != r.Attempts {
				m.failf("%s is dead (attempts %d) after a failure of attempt %d, max %d",
					r.ID, r.Attempts, n, m.policy[r.Sink].MaxAttempts)
			}
			if r.OrderingKey != "" {
				if _, ok := deadKeys[r.OrderingKey]; !ok {
					deadKeys[r.OrderingKey] = r.Seq
				}
			}
		case StatusPending, StatusRetry:
			if h, ok := deadKeys[r.OrderingKey]; r.OrderingKey == "" || !ok || h > r.Seq {
				m.failf("%s is %s after the drain and not behind a dead head: lost", r.ID, r.Status)
			}
			m.stats.heldBehindDead++
		default:
			m.failf("%s is %s after the drain", r.ID, r.Status)
		}
	}
}
