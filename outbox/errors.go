package outbox

import "errors"

// Sentinel errors. Callers compare with errors.Is.
var (
	// ErrNotClaimable: the effect is not in a state the claiming leader may
	// claim (not due, finished, or in flight under a token ≥ the term).
	ErrNotClaimable = errors.New("outbox: effect is not claimable")
	// ErrStaleAttempt: an ack or failure names an attempt that is not the
	// effect's current claim.
	ErrStaleAttempt = errors.New("outbox: attempt is not the current claim")
	// ErrNotLeader: this node is not (or no longer) the leader of the term.
	// Store.Apply returns it when the entry was definitely not applied.
	ErrNotLeader = errors.New("outbox: not the leader of this term")
	// ErrAmbiguous: Store.Apply cannot tell whether the entry was applied.
	ErrAmbiguous = errors.New("outbox: outcome of the log entry is unknown")
	// ErrFenced: a sink answered 409 with Chr2-Fenced: true; a newer leader
	// exists, so the dispatcher stopped delivering in this term.
	ErrFenced = errors.New("outbox: fenced by a sink that has seen a newer term")
	// ErrBadSchedule: a retry_schedule could not be parsed.
	ErrBadSchedule = errors.New("outbox: invalid retry schedule")
	// ErrBadSink: a sink's configuration is unusable.
	ErrBadSink = errors.New("outbox: invalid sink configuration")
	// ErrBadSecret: a sink secret is not "whsec_" + base64.
	ErrBadSecret = errors.New("outbox: invalid sink secret")
	// ErrBadRow: the SQL seam returned a row of an unexpected shape.
	ErrBadRow = errors.New("outbox: unexpected row from the store")
)
