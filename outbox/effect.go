package outbox

import (
	"context"
	"time"
)

// Status is chr2.effects.status.
type Status string

// The effect states. The strings are the column values.
const (
	StatusPending   Status = "pending"
	StatusInFlight  Status = "in_flight"
	StatusDelivered Status = "delivered"
	StatusRetry     Status = "retry"
	StatusDead      Status = "dead"
	StatusCancelled Status = "cancelled"
)

// Valid reports whether s is one of the six states.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusInFlight, StatusDelivered, StatusRetry, StatusDead, StatusCancelled:
		return true
	}
	return false
}

// Unfinished reports whether an effect in state s still holds its ordering
// key: everything except delivered and cancelled (dead blocks its key).
func (s Status) Unfinished() bool {
	return s != StatusDelivered && s != StatusCancelled
}

// Effect is one chr2.effects row. Zero times mean SQL NULL; FencingToken 0
// means NULL (no leader claims with term 0); OrderingKey "" means NULL.
type Effect struct {
	ID            string
	Seq           int64
	Sink          string
	Payload       []byte
	OrderingKey   string
	RunAt         time.Time
	Status        Status
	Attempts      int
	LastError     string
	FencingToken  uint64
	CreatedAt     time.Time
	ClaimedAt     time.Time
	NextAttemptAt time.Time
	DeliveredAt   time.Time
}

// Secret is a sink secret. Its String and GoString never reveal it, so a
// Sink can be logged or printed with %v/%+v/%#v without leaking the key.
type Secret string

// String redacts the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText redacts the secret for encoders (zap, JSON).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Sink is one chr2.sinks row.
type Sink struct {
	Name          string
	URL           string
	Secret        Secret // "whsec_" + base64 key, or "" for unsigned delivery
	MaxAttempts   int
	RetrySchedule string // "" = the default schedule
	Timeout       time.Duration
	Concurrency   int
}

// Store is what the dispatcher needs from the replicated state. SQLStore is
// the production implementation; tests use an in-memory one.
type Store interface {
	// Now is the current block time: monotonic and ≥ the last committed
	// block time.
	Now() time.Time
	// Candidates returns effects the leader of q.Term may claim at q.Now, in
	// seq order: pending or retry effects that are due (Claimable), and
	// in_flight effects whose fencing_token < term — restricted to the head
	// of each ordering key (SelectHeads), to the sinks in q.Quota and at most
	// q.Quota[sink] per sink, at most q.Limit in all. Quotas are what keep a
	// deep backlog on one slow or misconfigured sink from starving the others.
	Candidates(ctx context.Context, q CandidateQuery) ([]Effect, error)
	// NextWake returns the earliest run_at or next_attempt_at after now among
	// pending and retry effects, or the zero time if there is none. Waking
	// early is harmless; waking late delays delivery.
	NextWake(ctx context.Context, now time.Time) (time.Time, error)
	// Backlog returns the number of pending and retry effects and the
	// created_at of the oldest of them (zero if none).
	Backlog(ctx context.Context) (count int64, oldest time.Time, err error)
	// Sinks returns every sink by name.
	Sinks(ctx context.Context) (map[string]Sink, error)
	// Apply proposes the transitions as ONE log entry labelled kind ("claim",
	// "ack", "fail") and returns after it is committed and applied on this
	// node, in exactly term. applied[i] reports whether transition i's
	// compare-and-set matched. Errors: ErrNotLeader (definitely not applied),
	// ErrAmbiguous (unknown), or others (treated as ambiguous).
	Apply(ctx context.Context, term uint64, kind string, ts []Transition) (applied []bool, err error)
}

// CandidateQuery is a request for claimable effects.
type CandidateQuery struct {
	Now   time.Time
	Term  uint64
	Limit int            // total effects wanted
	Quota map[string]int // sink → effects wanted; unlisted sinks are skipped
}

// Leadership tells the dispatcher whether its node still leads the term.
type Leadership interface {
	StillLeader(term uint64) bool
}
