// Package pgwire speaks the PostgreSQL frontend/backend protocol (version
// 3.0, as PostgreSQL 16) on top of github.com/jackc/pgx/v5/pgproto3 and
// drives an Engine (sqlengine; test-only fakes below the seam).
//
// # What it owns
//
// Sockets, TLS, startup, authentication, the simple and extended query
// protocols, COPY, cancel requests, error and notice reporting, and the
// per-connection protocol state (prepared statements, portals, the
// skip-until-Sync flag, the ParameterStatus values last sent). It knows
// nothing about raft, the WAL or SQL: statements, transactions and values
// are the Engine's.
//
// # Invariants
//
//   - One goroutine per connection owns the socket and all protocol state;
//     only Session.Cancel (from a CancelRequest) and Server.Close reach in
//     from other goroutines.
//   - Memory per connection is bounded: a frame body is at most
//     MaxMessageBytes (larger ones end the connection before the body is
//     read); output is flushed past 32 KiB, so a client that stops reading
//     blocks its own statement instead of growing a buffer; prepared
//     statements and portals are capped per connection.
//   - A panic while serving a connection is recovered, logged with its
//     stack, answered with FATAL XX000 and ends that connection only (G9).
//   - Errors that are not *pgerr.Error reach the client as a bare XX000
//     "internal error"; the cause goes to the log. Passwords and secrets
//     are never logged.
//
// # Connection lifecycle (numbered duties)
//
//  1. Accept. Past MaxConnections the connection is still read far enough
//     to serve a CancelRequest or to answer FATAL 53300 after the startup
//     packet; past twice that it is closed at once.
//  2. Startup, within StartupTimeout: SSLRequest → 'S' and TLS, or 'N';
//     GSSENCRequest → 'N'; bytes pipelined behind either request are
//     refused (FATAL 08P01, CVE-2021-23214); CancelRequest → Session.Cancel
//     when pid and secret match, then close without answering; protocol
//     3.x with x > 0 or "_pq_." options → NegotiateProtocolVersion (3.0).
//  3. Authenticate (trust, cleartext, md5, SCRAM-SHA-256 without channel
//     binding). Unknown users go through the same exchange and fail with
//     the same FATAL 28P01.
//  4. AuthenticationOk, Engine.NewSession (its error is sent as FATAL),
//     ParameterStatus for every reported setting (defaults fill in
//     server_version, encodings, DateStyle, … when the session omits
//     them), BackendKeyData, ReadyForQuery.
//  5. Serve messages until Terminate, EOF, a FATAL, or Close. After an
//     error in an extended-protocol message everything up to Sync is
//     dropped. Errors and notices are flushed at once (as PostgreSQL does);
//     other output at ReadyForQuery, Flush, CopyInResponse, or past 32 KiB.
//  6. On exit: portals closed, Session.Close, socket closed, context
//     cancelled. On Server.Close each connection gets FATAL 57P01 (and its
//     running statement a cancelled context).
//
// # Framing
//
// Regular messages are a type byte, an int32 length (including itself)
// and a body. A length below 4 is FATAL 08P01 "invalid message length";
// above MaxMessageBytes FATAL 54000; an unknown type byte FATAL 08P01.
// A body that does not decode (missing terminator, short field) is an
// ERROR 08P01 and the connection continues. Startup-phase packets have no
// type byte and are limited to 10 000 bytes.
//
// # Engine contract extensions
//
// Two optional interfaces extend engine.go without breaking it:
// SessionLocation (the session's resolved TimeZone, so pgwire need not
// look up ParameterStatus after every statement) and
// ProtocolErrorObserver (errors pgwire raises itself must fail the
// transaction as in PostgreSQL).
package pgwire
