// Package migrations holds chr2's own schema (chr2.sinks, chr2.effects, …)
// as versioned PostgreSQL SQL files embedded in the binary, and applies them
// through the log.
//
// Contract:
//  1. Migration files are named NNNN_name.sql; they apply in version order,
//     each as one transaction proposed as one entry of kind migration, so
//     every node applies the same schema at the same index.
//  2. chr2.migrations records the versions applied; a migration's own
//     transaction records its version, so it applies at most once.
//  3. Only the leader runs Apply; it is safe to run again (a no-op when up to
//     date) and after a leader change.
package migrations
