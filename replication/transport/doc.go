// Package transport is the TCP implementation of replication.Transport: it
// carries go.etcd.io/raft/v3 messages between chr2sql nodes and streams
// snapshot files beside them.
//
// # What it owns
//
// The listener on --raft-addr, one outbound raft connection per peer (with
// one writer goroutine draining a bounded queue), the inbound connections
// peers opened to us, and one short-lived connection per snapshot stream. It
// does not interpret raft: it checks only that a message is addressed from
// the handshaked peer to this node.
//
// # Invariants
//
//   - Send never blocks. A full peer queue, an unknown peer, a peer in dial
//     backoff or a failed write drops the message(s) and reports the peer
//     unreachable. Raft retransmits; the transport never retries a message.
//   - Handler methods are never called from inside Send. ReportUnreachable is
//     coalesced per peer and issued by a reporter goroutine, so a Handler that
//     feeds the raft loop cannot deadlock against it. Process runs on the
//     goroutine of each inbound connection: calls for different peers are
//     concurrent, calls for one peer's raft stream are sequential.
//   - Messages handed to Send are marshalled later by the writer goroutine;
//     the caller must not mutate them (raft never mutates a Ready's messages).
//   - Messages to one peer leave in Send order on a single connection; a
//     reconnect may lose a suffix but never reorders: a new inbound raft
//     stream from a peer closes the previous one before it is read.
//   - Every frame's size is checked against its limit before allocation; a
//     malformed, oversized or misaddressed frame closes that connection only.
//   - A MsgSnap reaches the receiver's Handler only after its SnapshotStore
//     returned nil from ReceiveSnapshot having consumed the whole verified
//     stream. The sender reports SnapshotFinish only after the receiver's ack.
//
// # Wire format (version 1, all integers big-endian)
//
// Every frame:
//
//	u32 payload length | u8 type | u32 CRC32C(type ‖ payload) | payload
//
// Types: 1 hello, 2 reject, 3 raft message (raftpb.Message.Marshal), 4 snapshot
// begin (u64 size), 5 snapshot chunk (≥1 byte), 6 snapshot end (u32 CRC32C of
// the whole file), 7 snapshot ack (u8 status 0=ok 1=fail, then reason text).
// Payloads are at most MaxFrameBytes (default 64 MiB); hello, reject, begin,
// end and ack frames are bounded much lower (maxControlFrameBytes).
//
// Hello payload (deterministic: meta keys strictly ascending, no duplicates):
//
//	"C2RT" | u16 version | u8 kind (0 reply, 1 raft, 2 snapshot) |
//	u64 cluster id | u64 node id | u16 n | n × (u16 len, key, u16 len, value)
//
// # Connection protocol
//
//  1. The dialer sends hello(kind). The acceptor checks magic, version,
//     cluster id and sender id and answers hello(reply) with its own identity
//     and meta, or reject(code, reason) and closes. Both sides record the
//     other's meta (PeerMeta); the dialer also checks that the address
//     answered as the node id it expected.
//  2. Raft stream (kind 1): the dialer writes message frames, batching every
//     queued message into one write (TCP_NODELAY on, no Nagle delays). The
//     acceptor never writes after its hello; the dialer watches for EOF to
//     notice a dead peer before its next write.
//  3. Snapshot stream (kind 2), one per MsgSnap, on its own connection so a
//     large transfer never delays heartbeats:
//     a. dialer: MsgSnap frame, begin(size), chunks of ≤1 MiB, end(crc);
//     b. acceptor: ReceiveSnapshot(meta, reader, size); the reader verifies
//     the end checksum before yielding the last byte; if the store
//     returned nil and consumed everything, Handler.Process(MsgSnap);
//     c. acceptor: ack(ok | fail, reason); dialer: ReportSnapshot(to,
//     SnapshotFinish) on ok, SnapshotFailure on anything else (open
//     error, dial error, stream error, timeout, fail ack).
//
// At most one snapshot stream per peer is in flight; a second MsgSnap for
// the same peer meanwhile is dropped (raft does not send one until the first
// is reported).
//
// # Timeouts
//
// DialTimeout bounds a dial; WriteTimeout bounds a handshake and each batch
// write; SnapshotTimeout bounds each snapshot chunk read/write and the wait
// for the ack (which includes the receiver's fsync). Inbound raft streams
// have no read deadline (a follower may legitimately send nothing for long);
// TCP keepalive reaps dead ones.
package transport
