// Package memnet is a deterministic, fault-injecting in-memory network that
// implements replication.Transport. It is TEST-ONLY: it exists for
// consensus-level and in-process cluster tests and must never be wired into
// the chr2sql binary.
//
// # What it owns
//
// One Network per test holds every in-flight message, one random source
// seeded by Options.Seed, the fault configuration (drop, duplicate, reorder,
// delay, per link or for all links), the partition state (groups,
// isolations, one-way cuts) and the endpoints handed out by Endpoint(id).
//
// # Delivery modes
//
//   - Step: nothing moves on its own. The test pumps delivery with
//     DeliverOne and DeliverAll, and moves a virtual clock with Advance (only
//     needed when delays are configured). Handlers run on the test's
//     goroutine. For a given seed and the same sequence of calls the delivery
//     order is identical on every run.
//   - RealTime: a scheduler goroutine releases messages when their (wall
//     clock) delay has passed, and one goroutine per endpoint calls its
//     Handler in order. Faults are still drawn from the seeded source, but
//     goroutine interleaving makes runs non-reproducible.
//
// # Model and invariants
//
//  1. A message is decided at Send: lost to a partition, cut or closed
//     endpoint (the sender is told ReportUnreachable, coalesced per peer), lost
//     at random (silently, like a lossy link), or scheduled for time
//     now + delay with an ordering key. With probability DuplicateRate a
//     second copy is scheduled independently.
//  2. Messages on one directed link keep their send order unless a message
//     is marked reordered (probability ReorderRate): it skips the per-link
//     FIFO clamp and its ordering key is pushed back by 2..9 positions, so
//     later messages pending at the same time overtake it. In RealTime mode
//     it is also held back by up to max(MaxDelay, 1ms).
//  3. Partitions and cuts are checked again at delivery, so messages in
//     flight when a partition starts are lost, as on a real network.
//  4. A message addressed to an endpoint that was closed (or closed and
//     reopened: each Endpoint call after Close is a new incarnation) after
//     it was sent is dropped, like a TCP connection to a crashed process.
//  5. Snapshots: a MsgSnap's file is read from the sender's SnapshotStore
//     (EndpointConfig) at Send; at delivery the receiver's store gets
//     ReceiveSnapshot(meta, reader, size), and only if that returns nil is the
//     MsgSnap handed to Process. The sender then receives ReportSnapshot
//     (SnapshotFinish or SnapshotFailure) as a network event, as it does for
//     a MsgSnap lost to a fault. MsgSnap is never duplicated.
//  6. Handler callbacks never run inside Send: reports are queued events
//     delivered like messages.
//
// The SnapshotStore and Handler must not call Network configuration methods
// from inside ReceiveSnapshot/OpenSnapshot; Handler.Process may call Send.
package memnet
