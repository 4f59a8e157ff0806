// Package outbox is chr2sql's replicated outbox (guarantee G7): the lifecycle
// of an effect row in chr2.effects, the leader-only dispatcher that delivers
// effects to their sinks, the webhook sink with Standard Webhooks signing, the
// retry policy, and SQLStore, the production Store over a tiny SQL seam.
//
// # What it owns
//
//   - The effect lifecycle, a pure core (lifecycle.go, policy.go,
//     ordering.go): functions that take an effect's current row state plus an
//     event and return a Transition or a refusal. No I/O, no clock, no
//     randomness: the caller supplies now, the term and a jitter sample.
//   - The Dispatcher (dispatcher.go): the one driver that does I/O. It reads
//     candidates from a Store, proposes claim/ack/fail transitions through
//     Store.Apply, and sends HTTP requests through a Sender.
//   - The webhook Sender (webhook.go) and the signature format.
//   - SQLStore (sqlstore.go): the Store in terms of plain PostgreSQL SQL on
//     chr2.effects and chr2.sinks, executed through the SQL seam that the
//     engine implements.
//
// It does not know about the pg protocol, raft or SQLite. The node starts
// Dispatcher.Run when it becomes leader and cancels its context when it stops
// being leader; the engine calls Dispatcher.Notify after every committed write
// to chr2.effects or chr2.sinks (new effects, operator re-drive or cancel,
// sink configuration changes).
//
// # Lifecycle
//
//	pending ──claim──▶ in_flight ──ack──▶ delivered
//	retry   ──claim──▶ in_flight ──fail─▶ retry (next_attempt_at set) | dead
//	in_flight (fencing_token < term) ──claim──▶ in_flight (orphan of an older leader)
//	dead ──operator: status='pending'──▶ pending        any ──operator──▶ cancelled
//
// A Transition is a compare-and-set: it names the effect id and the expected
// (status, attempts, fencing_token), and the new values of exactly the
// columns its kind writes:
//
//	claim  status='in_flight', attempts=n+1, fencing_token=term, claimed_at=now
//	ack    status='delivered', delivered_at=now
//	fail   status='retry'|'dead', last_error=msg, next_attempt_at=t|NULL
//
// Applying a transition whose expectation does not match the row changes
// nothing. That is what makes a stale ack harmless: an ack from a deposed
// leader names (attempt n, term T); once a newer leader has claimed the
// effect the row holds (n+1, T') and the ack matches nothing. Invariants:
//
//  1. attempts and fencing_token never decrease (claims only increase them;
//     ack and fail do not touch them). fencing_token 0 in Go means SQL NULL:
//     raft terms start at 1, so no leader ever claims with token 0.
//  2. An effect is claimed only when it is pending or retry and due (run_at
//     and next_attempt_at are NULL or ≤ now), or in_flight under a token
//     smaller than the claiming term.
//  3. next_attempt_at, claimed_at and delivered_at are computed by the leader
//     and carried in the transition (and so in the log entry); replay never
//     recomputes them. Times are truncated to microseconds, PostgreSQL's
//     timestamptz precision, so every store holds the same value.
//  4. Cancel and re-drive are operator SQL, not transitions of this package.
//     A re-driven effect keeps its attempts: it gets one more attempt, and if
//     that fails while attempts ≥ max_attempts it is dead again. Operators who
//     want the whole schedule again also set attempts = 0.
//
// # Retry policy
//
// The default schedule follows Standard Webhooks: the first attempt is
// immediate and failures are retried after 5s, 5m, 30m, 2h, 5h, 10h, 10h —
// 8 attempts in all (chr2.sinks.max_attempts defaults to 8). A sink's
// retry_schedule ('5s,5m,30m') lists the delays before attempts 2, 3, …;
// when max_attempts exceeds the list, its last delay repeats. Each delay is
// jittered uniformly within ±JitterFraction (default 20%). A Retry-After
// response header (delta-seconds or HTTP date) is honoured up to
// MaxRetryAfter: the delay is the larger of the jittered schedule delay and
// the capped Retry-After.
//
// # Ordering keys
//
// Effects that share an ordering_key are delivered one at a time in commit
// order (seq). Only the key's head — its unfinished effect with the lowest
// seq, where unfinished means pending, retry, in_flight or dead — may be
// claimed. Consequences, chosen on purpose:
//
//   - A later effect of the key is not sent until the head is delivered or
//     cancelled, even if the head is waiting for a retry.
//   - A dead head blocks its key until an operator re-drives it (status set
//     back to 'pending') or cancels it. Delivering later effects past a dead
//     one would silently break the order the application asked for.
//   - Effects without an ordering key are independent of each other.
//
// # Dispatcher duties, in order
//
// Each round of Dispatcher.Run(ctx, term):
//
//  1. Read the sinks, then the candidates (Store.Candidates) at now =
//     Store.Now(), asking each usable sink for at most its free concurrency
//     (its quota). Quotas keep a deep backlog on one slow or misconfigured
//     sink from filling every round and starving the other sinks; a sink
//     with an unusable configuration gets no quota (logged once, counted in
//     chr2_outbox_sink_config_errors_total) and its effects stay pending.
//  2. Keep at most one effect per ordering key and no more than each sink's
//     free slots; build claim transitions with Claim.
//  3. Propose the whole batch as ONE Store.Apply(term, "claim", …). Only the
//     effects whose claim applied are delivered; on any Apply error nothing
//     of the batch is sent (an ambiguous claim may or may not have committed,
//     and a later leader re-claims it as an orphan).
//  4. Deliver each claimed effect in its own goroutine, bounded by the sink's
//     concurrency and its attempt timeout. Right before sending, check
//     Leadership.StillLeader(term); if not, send nothing and leave the effect
//     in_flight for the next leader.
//  5. Record outcomes in batched Apply calls, kind "ack" for successes and
//     "fail" for failures, a few entries per batch rather than one per effect.
//  6. On a 409 with Chr2-Fenced: true, stop delivering in this term: cancel
//     unsent attempts, record what already completed, return ErrFenced. The
//     fenced attempt is not recorded as a failure; its effect stays in_flight
//     and the newer leader re-claims it.
//  7. Sleep until Notify, a delivery result, the next due retry or run_at
//     (Store.NextWake), or MaxIdle — never a short polling loop.
//
// On ctx cancellation Run cancels every attempt (sent or not), waits for its
// goroutines and returns nil; results it could not record are re-delivered by
// the next leader, with the same effect id (the only source of duplicates).
// If Run returns an error while the node is still leader in the same term,
// effects it had in flight stay in_flight until a later term re-claims them;
// the node should step down rather than restart Run in the same term.
//
// # Webhook request
//
//	POST <sink url>
//	Content-Type: application/json
//	webhook-id: <effect id>               Idempotency-Key: <effect id>
//	webhook-timestamp: <unix seconds of this attempt>
//	webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>   (only with a secret)
//	Chr2-Fencing-Token: <claiming term>   Chr2-Attempt: <n>   Chr2-Ordering-Key: <key> (when set)
//
// The secret is "whsec_" + base64(key); the HMAC key is the decoded bytes (the
// prefix is optional, as in the reference libraries). A 2xx response is
// success; anything else, a network error or the attempt timeout is a failure
// whose last_error is short and secret-free (status code and a trimmed body
// prefix, never the URL, the secret or the signature). Redirects are not
// followed.
package outbox
