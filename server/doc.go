// Package server assembles one chr2sql node from its parts — the SQL
// engine, the raft node with its WAL and manifest, the peer transport, the
// PostgreSQL listener, the HTTP endpoints and the outbox dispatcher — and
// runs the leader-only duties (chr2 migrations, effect delivery) for as long
// as the node leads. It is wiring: no package logic lives here. The binary
// (cmd/chr2sql) and in-process cluster tests both start nodes through it.
//
// Start order (each step may use the previous):
//  1. Lock the data directory, read the stored cluster identity.
//  2. Open the SQL engine on <data-dir>/state (it replays nothing yet).
//  3. Start the transport on --raft-addr and the raft node on <data-dir>
//     (WAL, manifest); committed entries after the engine's applied index
//     are applied as the node catches up.
//  4. Start the PostgreSQL listener and the HTTP endpoints.
//
// Stop runs the steps backwards. Effects are sent only under a leadership
// lease: a ReadIndex round less than half an election timeout old
// (duties.go), so a leader cut off from the majority stops sending before a
// new leader can be elected.
//
// A node that has had no leader for a few election timeouts asks its peers'
// GET /status whether the cluster still counts it (removal.go): raft stops
// talking to a removed node before it can learn its removal committed. It
// stops itself only on proof — a leader of its cluster, in its term or a
// later one, that applied at least as much of the log and does not list it.
package server
