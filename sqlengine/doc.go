// Package sqlengine is chr2sql's SQL layer: it implements pgwire.Engine for
// client sessions and is the state machine the replicated log is applied
// to. It owns the state database (one SQLite file per node, opened through
// modernc.org/sqlite), the translation of PostgreSQL SQL into SQLite SQL
// (package translate), the catalog of declared PostgreSQL objects (package
// catalog), the deterministic SQLite functions (package funcs) and the
// storage forms of PostgreSQL values (package sqltype). It knows nothing of
// raft or the network: it proposes through the Consensus interface and is
// handed committed entries through Apply.
//
// # Replication model
//
// An entry (package entry's envelope, body in record.go) carries one
// transaction's write statements as SQLite steps with bound storage values,
// the deterministic context they ran in (block time, seed, term, proposal
// sequence) and the digest of what each statement returned and changed.
//
//  1. On the leader, one Writer executes every change in log order (see
//     writer.go for its numbered steps): a transaction runs, then its entry
//     is proposed; the client is answered when the log commits it. One
//     proposer goroutine hands every entry queued meanwhile to consensus as
//     one batch (Consensus.ProposeBatch), so commits of concurrent clients
//     share one WAL fsync and one round of replication messages.
//  2. Every node — the leader included, for entries it did not execute in
//     its current epoch — applies committed entries in order by executing
//     their steps and comparing digests; a mismatch halts the node with an
//     error naming the index (G3).
//  3. Time and randomness reach SQL only through chr2_* functions reading
//     the entry's context (G4), so replay reproduces the state bit for bit.
//  4. The applied index and block time are stored in the same SQLite
//     transaction as the effects; a restart replays the log after them.
//
// # Reads
//
// A read outside a write transaction runs on one of a pool of read
// connections after a read barrier (ReadIndex through Consensus, then
// waiting until the index is visible) — linearizable by default (G2).
// SET chr2.read_consistency = 'local' skips the barrier. A read-write
// transaction block runs on the writer; BEGIN READ ONLY runs on one read
// snapshot. A follower sends work that needs the writer to the leader
// through a Forwarder (forward.go): a block from its first write on, as
// text. Statements are still translated locally (for their description);
// once a forwarded block changed the schema, or when this node cannot
// translate a statement, the leader describes it, because only the
// leader's open transaction sees what the block created.
//
// # Temporary tables
//
// A temporary table is an ordinary replicated table in the schema pg_temp_N
// of the session whose backend process id is N: it is created, written and
// dropped through the log, so statements mixing it with other tables replay
// identically. Only translation makes it private (translate/temp.go): the
// session's schema is searched first for relation names and no other
// session can name it. The session keeps its ON COMMIT actions and runs
// them in the committing transaction (temptables.go); Close, DISCARD TEMP
// and DISCARD ALL drop the schema through the log on the leader. A crash or
// a leader change can leave schemas of sessions that no longer exist: a
// node taking office drops, after the chr2 migrations and through the log,
// every pg_temp_* schema whose process id is not a session open on it
// (Engine.DropOrphanTempSchemas, called from the server's leader duties).
// A session resolves names in its schema only after it created a temporary
// table itself, and its first one drops a same-named schema it did not
// create: pids are numbered per node and reused, so such a schema belongs
// to another node's session or to a dead one.
// A session on a follower forwards its writes to a different session on
// the leader, whose process id its local translation does not know; it
// refuses CREATE TEMP TABLE with 0A000.
//
// # Errors
//
// Sentinels (ErrNotLeader, ErrNoQuorum, ErrLostProposal, ErrAmbiguous, …)
// are translated to SQLSTATEs by clientError; SQLite errors by mapError.
// Bad input changes nothing: a failed statement is never recorded, a failed
// transaction is rolled back to its savepoint.
package sqlengine
