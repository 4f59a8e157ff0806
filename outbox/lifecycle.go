package outbox

import (
	"fmt"
	"time"
)

// Entry kinds: the label of the log entry a batch of transitions travels in.
const (
	KindClaim = "claim"
	KindAck   = "ack"
	KindFail  = "fail"
)

// maxLastErrorBytes bounds last_error so a chatty sink cannot bloat the log.
const maxLastErrorBytes = 256

// Expect is the compare-and-set precondition of a Transition.
type Expect struct {
	Status       Status
	Attempts     int
	FencingToken uint64 // 0 = NULL
}

// Transition is a compare-and-set on one effect row: if the row's (status,
// attempts, fencing_token) equals From, the columns of Kind are set:
//
//	KindClaim: status, attempts, fencing_token, claimed_at (= At)
//	KindAck:   status, delivered_at (= At)
//	KindFail:  status, last_error, next_attempt_at (zero = NULL)
//
// Otherwise nothing changes.
type Transition struct {
	EffectID      string
	Kind          string
	From          Expect
	To            Status
	Attempts      int
	FencingToken  uint64
	At            time.Time
	NextAttemptAt time.Time
	LastError     string
}

// Matches reports whether the CAS precondition holds for e.
func (t Transition) Matches(e Effect) bool {
	return e.ID == t.EffectID && e.Status == t.From.Status &&
		e.Attempts == t.From.Attempts && e.FencingToken == t.From.FencingToken
}

// ApplyTo applies the transition to an in-memory row and reports whether
// the compare-and-set matched. It is the reference semantics SQLStore's
// UPDATE statements implement.
func (t Transition) ApplyTo(e *Effect) bool {
	if !t.Matches(*e) {
		return false
	}
	e.Status = t.To
	switch t.Kind {
	case KindClaim:
		e.Attempts = t.Attempts
		e.FencingToken = t.FencingToken
		e.ClaimedAt = t.At
	case KindAck:
		e.DeliveredAt = t.At
	case KindFail:
		e.LastError = t.LastError
		e.NextAttemptAt = t.NextAttemptAt
	default:
		panic(fmt.Sprintf("outbox: transition of unknown kind %q", t.Kind))
	}
	return true
}

// Due reports whether a pending or retry effect may be attempted at now:
// run_at and next_attempt_at are unset or not after now.
func Due(e Effect, now time.Time) bool {
	return (e.RunAt.IsZero() || !e.RunAt.After(now)) &&
		(e.NextAttemptAt.IsZero() || !e.NextAttemptAt.After(now))
}

// Claimable reports whether the leader of term may claim e at now, ignoring
// ordering keys: pending or retry and due, or in_flight under an older token.
// A row already stamped with a newer token is never claimable: a fencing
// token only grows.
func Claimable(e Effect, term uint64, now time.Time) bool {
	switch e.Status {
	case StatusPending, StatusRetry:
		return Due(e, now) && e.FencingToken <= term
	case StatusInFlight:
		return e.FencingToken < term
	}
	return false
}

// Claim returns the transition that claims e for the leader of term at now:
// attempts+1, fencing_token = term, claimed_at = now.
func Claim(e Effect, term uint64, now time.Time) (Transition, error) {
	if term == 0 {
		return Transition{}, fmt.Errorf("%w: term 0", ErrNotClaimable)
	}
	if !Claimable(e, term, now) {
		return Transition{}, fmt.Errorf("%w: %s is %s (attempts %d, token %d) at term %d",
			ErrNotClaimable, e.ID, e.Status, e.Attempts, e.FencingToken, term)
	}
	return Transition{
		EffectID:     e.ID,
		Kind:         KindClaim,
		From:         expectOf(e),
		To:           StatusInFlight,
		Attempts:     e.Attempts + 1,
		FencingToken: term,
		At:           dbTime(now),
	}, nil
}

// Ack returns the transition that records attempt (claimed in term) of e as
// delivered at now. e is the row as the caller knows it; the returned CAS
// expects in_flight with exactly that attempt and token, so applying it after
// anyone else moved the row on changes nothing.
func Ack(e Effect, attempt int, term uint64, now time.Time) (Transition, error) {
	if err := checkCurrent(e, attempt, term); err != nil {
		return Transition{}, err
	}
	return Transition{
		EffectID: e.ID,
		Kind:     KindAck,
		From:     Expect{Status: StatusInFlight, Attempts: attempt, FencingToken: term},
		To:       StatusDelivered,
		At:       dbTime(now),
	}, nil
}

// Failure describes a failed attempt.
type Failure struct {
	Attempt    int
	Term       uint64
	Err        string        // short, secret-free description
	RetryAfter time.Duration // from the response's Retry-After; 0 = none
	Permanent  bool          // no retry can succeed (e.g. payload over the limit)
	Jitter     float64       // uniform sample in [0, 1) drawn by the leader
}

// Fail returns the transition that records a failed attempt of e: retry with
// next_attempt_at from the policy, or dead when the attempts are exhausted
// (or the failure is permanent).
func Fail(e Effect, f Failure, p RetryPolicy, now time.Time) (Transition, error) {
	if err := checkCurrent(e, f.Attempt, f.Term); err != nil {
		return Transition{}, err
	}
	t := Transition{
		EffectID:  e.ID,
		Kind:      KindFail,
		From:      Expect{Status: StatusInFlight, Attempts: f.Attempt, FencingToken: f.Term},
		To:        StatusDead,
		LastError: truncateUTF8(f.Err, maxLastErrorBytes),
	}
	if f.Permanent || f.Attempt >= p.MaxAttempts {
		return t, nil
	}
	t.To = StatusRetry
	t.NextAttemptAt = dbTime(now.Add(p.Delay(f.Attempt, f.RetryAfter, f.Jitter)))
	return t, nil
}

// checkCurrent refuses an outcome for an attempt that e's known state says is
// not the current claim. The real guard is the CAS at apply time; this only
// catches callers that mix up rows.
func checkCurrent(e Effect, attempt int, term uint64) error {
	if e.Status != StatusInFlight || e.Attempts != attempt || e.FencingToken != term {
		return fmt.Errorf("%w: %s is %s (attempts %d, token %d), outcome for attempt %d term %d",
			ErrStaleAttempt, e.ID, e.Status, e.Attempts, e.FencingToken, attempt, term)
	}
	return nil
}

func expectOf(e Effect) Expect {
	return Expect{Status: e.Status, Attempts: e.Attempts, FencingToken: e.FencingToken}
}

// dbTime truncates to PostgreSQL's timestamptz precision and drops the
// monotonic reading, so a stored value equals the value carried in the log.
func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Round(0).Truncate(time.Microsecond).UTC()
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
