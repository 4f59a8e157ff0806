package replication

import (
	"context"
	"io"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Transport moves raft messages between nodes. The TCP implementation lives
// in replication/transport; tests use the fault-injecting in-memory network
// in replication/memnet (test-only).
type Transport interface {
	// Start begins accepting inbound traffic and delivers it to h.
	Start(h Handler) error
	// Send queues messages for delivery and never blocks on the network: a
	// full per-peer queue drops the message and reports the peer unreachable.
	// A message of type MsgSnap is followed by a stream of the snapshot file
	// obtained from the SnapshotStore; the receiver hands the MsgSnap to its
	// Handler only once the file is stored durably.
	Send(msgs []raftpb.Message)
	// AddPeer and RemovePeer maintain the id → raft address map.
	AddPeer(id uint64, addr string)
	RemovePeer(id uint64)
	// PeerMeta returns what the peer advertised in its handshake (for
	// example "pg-addr" and "http-addr"), or nil if it never connected.
	PeerMeta(id uint64) map[string]string
	// Close stops all goroutines and closes every connection.
	Close() error
}

// Handler receives what the transport delivers. Process must not block for
// long: it hands the message to the raft loop.
type Handler interface {
	Process(ctx context.Context, m raftpb.Message) error
	ReportUnreachable(id uint64)
	ReportSnapshot(id uint64, status raft.SnapshotStatus)
}

// SnapshotStore gives the transport access to snapshot files. The MsgSnap's
// Snapshot.Data carries only small metadata that names the file.
type SnapshotStore interface {
	// OpenSnapshot returns the file described by meta for sending.
	OpenSnapshot(meta []byte) (rc io.ReadCloser, size int64, err error)
	// ReceiveSnapshot stores a snapshot streamed by a peer; it returns only
	// after the file is complete, verified and fsynced.
	ReceiveSnapshot(meta []byte, r io.Reader, size int64) error
}
