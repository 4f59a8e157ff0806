// Package entry owns the envelope of every normal raft log entry chr2sql
// writes: a versioned, deterministic binary header followed by a body whose
// format belongs to the kind (sqlengine encodes statement bodies).
//
// Byte layout (version 1, all integers big-endian, fixed width):
//
//	offset size field
//	0      1    version = 1
//	1      1    kind (KindTxn, KindClaim, KindAck, KindFail, KindMigration)
//	2      8    block time, unix microseconds (the last transaction's)
//	10     8    proposer node id
//	18     8    proposal sequence (unique per proposer process)
//	26     8    proposer term at execution (the fencing token for outbox kinds)
//	34     …    body
//
// The same input always gives the same bytes: the envelope is hashed into the
// WAL chain, so it must never depend on map order or the Go version.
package entry
