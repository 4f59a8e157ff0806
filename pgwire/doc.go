// Package pgwire speaks the PostgreSQL frontend/backend protocol (version
// 3.0) on top of github.com/jackc/pgx/v5/pgproto3 and drives an Engine.
package pgwire
