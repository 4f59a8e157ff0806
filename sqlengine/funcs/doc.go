// Package funcs registers the chr2_* SQLite functions that translated
// statements call, and the collations that give text-stored types
// PostgreSQL's order: chr2_numeric, chr2_interval, chr2_jsonb and the array
// collations (collations.go, arraycmp.go).
//
// Two kinds of function exist:
//
//   - Pure functions (casts, string and number helpers, JSON, regular
//     expressions) depend only on their arguments and are registered as
//     deterministic, so SQLite may use them in CHECK constraints and indexes.
//   - Context functions (chr2_now, chr2_random, chr2_uuid, chr2_effect_id,
//     chr2_nextval …) read the *Env of the connection they run on. The
//     executor sets the Env from the deterministic context of the entry —
//     block time, seed, term, proposal sequence, statement ordinal — before
//     each statement, so every node computes the same values (guarantee G4).
//     They never read a clock or a global random source.
//
// Errors raised inside a function carry their SQLSTATE in the message
// ("[chr2 22012] division by zero"); DecodeError recovers it.
package funcs
