package pgerr

import (
	"errors"
	"fmt"
)

// Severity values as PostgreSQL sends them in the S and V fields.
const (
	SeverityError   = "ERROR"
	SeverityFatal   = "FATAL"
	SeverityPanic   = "PANIC"
	SeverityWarning = "WARNING"
	SeverityNotice  = "NOTICE"
	SeverityInfo    = "INFO"
	SeverityDebug   = "DEBUG"
	SeverityLog     = "LOG"
)

// Error is an error a client can see. It maps one-to-one onto the fields of
// a PostgreSQL ErrorResponse or NoticeResponse.
type Error struct {
	Severity       string // empty means ERROR
	Code           Code
	Message        string
	Detail         string
	Hint           string
	Where          string // context, e.g. "COPY t, line 2"; psql prints it as CONTEXT
	Position       int32  // 1-based character offset into the statement, 0 when unknown
	SchemaName     string
	TableName      string
	ColumnName     string
	DataTypeName   string
	ConstraintName string
	// cause is kept for errors.Is/As and logs; it is never sent to a client.
	cause error
}

func (e *Error) Error() string {
	sev := e.Severity
	if sev == "" {
		sev = SeverityError
	}
	return fmt.Sprintf("%s: %s (SQLSTATE %s)", sev, e.Message, e.Code)
}

// Unwrap exposes the internal cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// New builds an error with a code and a message formatted like fmt.Sprintf.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an error with a code and message that keeps cause for errors.Is
// and for logs; the cause's text is not shown to clients.
func Wrap(cause error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), cause: cause}
}

// WithDetail returns e with Detail set; it mutates and returns e for chaining.
func (e *Error) WithDetail(format string, args ...any) *Error {
	e.Detail = fmt.Sprintf(format, args...)
	return e
}

// WithHint returns e with Hint set; it mutates and returns e for chaining.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// WithWhere returns e with the context (Where) field set.
func (e *Error) WithWhere(format string, args ...any) *Error {
	e.Where = fmt.Sprintf(format, args...)
	return e
}

// WithPosition returns e with a 1-based statement position set.
func (e *Error) WithPosition(pos int32) *Error {
	e.Position = pos
	return e
}

// WithConstraint sets the table and constraint fields, which drivers such as
// pgx expose to applications (pgconn.PgError.ConstraintName).
func (e *Error) WithConstraint(table, constraint string) *Error {
	e.TableName = table
	e.ConstraintName = constraint
	return e
}

// Unsupported is the 0A000 error that names the unsupported construct.
func Unsupported(construct string) *Error {
	return New(FeatureNotSupported, "%s is not supported", construct)
}

// Internal wraps an unexpected error as XX000 without leaking its text into
// the client-visible message beyond a short summary.
func Internal(cause error) *Error {
	return Wrap(cause, InternalError, "internal error: %v", cause)
}

// From returns err as an *Error. Errors that are not already client errors
// become XX000 internal errors.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return Internal(err)
}

// CodeOf returns the SQLSTATE of err, or InternalError when err is not an
// *Error, or SuccessfulCompletion for nil.
func CodeOf(err error) Code {
	if err == nil {
		return SuccessfulCompletion
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return InternalError
}
