// Package testnet hands tests loopback addresses to listen on. It is
// test-only: production code listens where the operator says.
//
// Ports come from below the kernel's ephemeral range, so a node restarted on
// its old port does not find it taken by an outgoing connection's local
// port, which the kernel picks from that range (a real flake: a follower
// dialling the leader grabbed the stopped node's port). A port is handed out
// once per process and, through a flock under $TMPDIR/chr2sql-testports,
// to one test process at a time (go test runs packages in parallel).
package testnet
