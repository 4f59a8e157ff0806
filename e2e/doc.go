// Package e2e runs the real chr2sql binary as separate processes and drives
// it with real clients (psql, pgx) and real HTTP sinks. Faults are real too:
// kill -9, restarts on the same data directory, membership changes. Every
// test waits for conditions with deadlines and prints the seed of its
// randomness (CHR2_SEED replays it).
package e2e
