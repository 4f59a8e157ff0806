// Package translate turns one parsed PostgreSQL statement (a pg_query_go v5
// parse tree) into a Plan: SQLite statements in chr2sql's storage forms, the
// types of the parameters, the PostgreSQL description of the result columns
// and what the session must do with it.
//
// Translation is pure: it reads an immutable catalog snapshot and the
// statement and returns a Plan or a *pgerr.Error; it never executes SQL.
//
// Contract:
//  1. Every identifier in the output is quoted; relations are referred to by
//     their SQLite names (catalog.SQLiteName).
//  2. Every time- or randomness-dependent PostgreSQL function is translated
//     to a chr2_* SQLite function that reads the deterministic context of the
//     executing entry (see package funcs); SQLite's own random(),
//     datetime('now') and the like are never emitted.
//  3. Column defaults are injected by the translator into INSERTs, so
//     defaults are PostgreSQL expressions with PostgreSQL semantics.
//  4. Untyped literals take the type of their context and are converted to
//     storage form at translation time; parameters get the type of their
//     context and are converted at bind time (Step.Args).
//  5. Anything not supported fails with 0A000 naming the construct — never a
//     silently different meaning.
//  6. ORDER BY always states NULLS FIRST/LAST explicitly, because SQLite's
//     default null ordering is the opposite of PostgreSQL's.
package translate
