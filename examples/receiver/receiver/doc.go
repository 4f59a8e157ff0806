// Package receiver is an example webhook receiver for chr2sql's outbox that
// a user can copy. It is deliberately self-contained: it does not import
// chr2sql, so it shows everything a sink written in any language must do.
//
// For each POST, in order:
//
//  1. Verify the Standard Webhooks signature: webhook-signature holds one or
//     more space-separated "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>"
//     entries; the key is the base64 part of the "whsec_…" secret. The
//     comparison is constant-time. webhook-timestamp must be within
//     Tolerance of the receiver's clock (replay protection). Failure → 401.
//  2. Fencing: Chr2-Fencing-Token carries the term of the chr2 leader that
//     claimed the attempt. A token lower than the highest seen means the
//     sender is a deposed leader: answer 409 with "Chr2-Fenced: true" (the
//     sender then stops delivering in that term) and process nothing. A
//     higher token raises the mark.
//  3. Dedupe by webhook-id (the effect id): a retry or a post-failover
//     re-delivery of an id already accepted is answered 200 without
//     processing it again.
//  4. Process (an optional hook), then append the delivery to the ledger and
//     answer 200. If processing or the ledger write fails the answer is 500
//     and the id is not marked seen, so chr2 retries it.
//
// Steps 2–4 run under one mutex, so dedupe is exact even under concurrent
// deliveries. The ledger is a JSON-lines file; on start it is replayed to
// restore the seen ids and the highest fencing token, so a restarted receiver
// still dedupes and still fences. GET /received returns the accepted
// deliveries as a JSON array and GET /stats the counters.
//
// Ledger line format (one JSON object per line):
//
//	{"type":"delivery","id":"…","timestamp":1700000000,"fencing_token":3,
//	 "attempt":1,"ordering_key":"…","payload":{…},"received_at":"RFC 3339"}
//	{"type":"fence","fencing_token":4}      a higher token seen without a new delivery
package receiver
