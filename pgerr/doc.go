// Package pgerr is the one place SQLSTATE codes live.
//
// Every error that reaches a client carries a Code from the typed table in
// codes.go; no other package spells a SQLSTATE as a string literal. Packages
// keep their own sentinel errors and translate them into an *Error at the
// boundary where a client could see them (sqlengine for SQL and replication
// outcomes, pgwire for protocol violations).
//
// Contract:
//  1. Message follows PostgreSQL style: lower case, no trailing period.
//  2. Detail and Hint are optional full sentences.
//  3. An *Error never carries a secret (password, sink secret); callers must
//     not format such values into any field.
//  4. Severity defaults to ERROR; FATAL is used only where PostgreSQL closes
//     the connection.
package pgerr
