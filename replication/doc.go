// Package replication runs the go.etcd.io/raft/v3 node: the Ready loop, the
// peer transport (through the Transport interface), proposal submission,
// ReadIndex, the apply hand-off to the state machine, snapshots and
// membership. It treats entry payloads as opaque bytes.
package replication
