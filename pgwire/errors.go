package pgwire

import (
	"context"
	"errors"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Sentinel errors of this package.
var (
	// ErrServerClosed is returned by Serve after Close.
	ErrServerClosed = errors.New("pgwire: server closed")
	// ErrBadConfig wraps every configuration problem NewServer reports.
	ErrBadConfig = errors.New("pgwire: bad configuration")

	errClientGone = errors.New("pgwire: client closed the connection")
)

// frameError is a framing failure after which the byte stream cannot be
// trusted: the connection ends with the FATAL it carries.
type frameError struct {
	pe *pgerr.Error
}

func (e *frameError) Error() string { return e.pe.Error() }

func fatal(code pgerr.Code, format string, args ...any) *pgerr.Error {
	pe := pgerr.New(code, format, args...)
	pe.Severity = pgerr.SeverityFatal
	return pe
}

// clientError turns any error into what the client may see. Errors that
// are not *pgerr.Error become a bare XX000 "internal error": their text may
// hold internals (paths, peer addresses), so it goes to the log only.
// internal reports whether that happened, so the caller logs the cause.
func clientError(err error) (pe *pgerr.Error, internal bool) {
	if errors.As(err, &pe) {
		return pe, false
	}
	switch {
	case errors.Is(err, context.Canceled):
		return pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request"), false
	case errors.Is(err, context.DeadlineExceeded):
		return pgerr.New(pgerr.QueryCanceled, "canceling statement due to statement timeout"), false
	}
	return pgerr.New(pgerr.InternalError, "internal error"), true
}

// errorFields fills an ErrorResponse or NoticeResponse from pe. Every
// field pgerr.Error models is sent; empty ones are omitted by pgproto3.
func errorFields(pe *pgerr.Error) pgproto3.ErrorResponse {
	sev := pe.Severity
	if sev == "" {
		sev = pgerr.SeverityError
	}
	return pgproto3.ErrorResponse{
		Severity:            sev,
		SeverityUnlocalized: sev,
		Code:                string(pe.Code),
		Message:             pe.Message,
		Detail:              pe.Detail,
		Hint:                pe.Hint,
		Where:               pe.Where,
		Position:            pe.Position,
		SchemaName:          pe.SchemaName,
		TableName:           pe.TableName,
		ColumnName:          pe.ColumnName,
		DataTypeName:        pe.DataTypeName,
		ConstraintName:      pe.ConstraintName,
	}
}
