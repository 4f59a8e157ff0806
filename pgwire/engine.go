package pgwire

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Engine is what pgwire needs from the SQL layer. It is implemented by
// sqlengine (and, below the seam, by test-only fakes in this package's tests).
//
// Errors returned by any method are sent to the client as ErrorResponse; an
// error that is not a *pgerr.Error is reported as XX000.
type Engine interface {
	// NewSession is called once the startup packet and authentication are
	// accepted. The session lives until the connection ends.
	NewSession(ctx context.Context, info SessionInfo) (Session, error)
}

// SessionInfo describes the client connection.
type SessionInfo struct {
	ProcessID  uint32            // the BackendKeyData process id of this connection
	User       string            // startup parameter "user"
	Database   string            // startup parameter "database" (defaults to User)
	Params     map[string]string // every startup parameter, including options
	RemoteAddr net.Addr
	TLS        bool
}

// Session is one client's SQL session: its transaction state, its settings
// and the statements it prepared. pgwire calls a Session from one goroutine
// at a time, except Cancel, which may be called concurrently.
type Session interface {
	// Parse parses sql into one or more statements. paramOIDs are the types
	// the client declared for $1..$n (0 = let the engine infer). For the
	// extended protocol pgwire rejects a result of more than one statement
	// with 42601 "cannot insert multiple commands into a prepared statement".
	// An empty or comment-only string returns zero statements.
	Parse(ctx context.Context, sql string, paramOIDs []uint32) ([]Statement, error)

	// Sync ends the implicit transaction, if one is open: it commits what ran
	// since the last Sync when no error occurred, or rolls it back. pgwire
	// calls it on every Sync message and at the end of every simple Query
	// message, before ReadyForQuery. An error is reported before
	// ReadyForQuery.
	Sync(ctx context.Context) error

	// TxStatus is the ReadyForQuery status: 'I' idle, 'T' in a transaction
	// block, 'E' in a failed transaction block.
	TxStatus() byte

	// ParameterStatus returns the reportable settings (GUC_REPORT) and their
	// values: at startup pgwire sends all of them; after each statement it
	// sends those whose value changed since it last sent them.
	ParameterStatus() []Param

	// Cancel interrupts the statement now running, if any; that statement
	// fails with 57014. Safe to call from any goroutine.
	Cancel()

	// Close releases the session; an open transaction is rolled back.
	Close()
}

// Param is one ParameterStatus name and value.
type Param struct {
	Name, Value string
}

// Statement is a parsed, analysed statement (a prepared statement in the
// extended protocol).
type Statement interface {
	// ParamOIDs are the final types of $1..$n (declared or inferred); they go
	// into ParameterDescription and drive how Bind decodes parameter values.
	ParamOIDs() []uint32
	// Columns describes the rows the statement returns, nil if it returns
	// none (pgwire then answers Describe with NoData).
	Columns() []Column
	// Bind binds decoded parameter values (see pgval for the value model)
	// and returns a portal ready to execute.
	Bind(ctx context.Context, params []any) (Portal, error)
	// SQL returns the statement's original text (for logs and pg_prepared_statements).
	SQL() string
}

// Column describes one result column, as in RowDescription.
type Column struct {
	Name         string
	TableOID     uint32 // 0 when not a plain table column
	AttrNum      int16  // 0 when not a plain table column
	TypeOID      pgval.OID
	TypeSize     int16 // pg_type.typlen
	TypeModifier int32 // -1 when none
}

// Portal is a bound statement. A portal may be executed several times with a
// row limit (Execute with maxRows > 0 returns suspended=true while rows
// remain).
type Portal interface {
	// Columns is the same as the statement's, or nil.
	Columns() []Column
	// Execute runs the portal, writing rows to w, and returns the command
	// tag ("INSERT 0 1", "SELECT 3", "BEGIN", …). maxRows 0 means all rows.
	// When maxRows is reached and rows remain it returns suspended=true and
	// an empty tag; the next Execute continues where it stopped.
	Execute(ctx context.Context, maxRows int, w ResultWriter) (tag string, suspended bool, err error)
	// Close releases the portal's resources (an open cursor, for example).
	Close()
}

// ResultWriter is how a running statement talks back to the client. pgwire
// implements it per Execute; the engine must not retain it.
type ResultWriter interface {
	// WriteRow sends one DataRow. values follow the pgval value model and
	// are encoded in the result formats the client asked for in Bind.
	WriteRow(values []any) error
	// Notice sends a NoticeResponse (severity NOTICE or WARNING).
	Notice(n *pgerr.Error)
	// CopyIn starts COPY FROM STDIN: pgwire sends CopyInResponse and returns
	// a reader over the CopyData payloads; it returns io.EOF at CopyDone and
	// an error containing the client's message at CopyFail.
	CopyIn(format int16, columnFormats []int16) (io.Reader, error)
	// CopyOut starts COPY TO STDOUT: pgwire sends CopyOutResponse; each
	// Write on the returned writer becomes one CopyData message; Close sends
	// CopyDone.
	CopyOut(format int16, columnFormats []int16) (io.WriteCloser, error)
}

// SessionLocation may be implemented by a Session that keeps its TimeZone
// setting resolved. pgwire then formats timestamptz values in Location()
// instead of looking up the "TimeZone" ParameterStatus after every
// statement (which would cost a ParameterStatus call per statement).
type SessionLocation interface {
	Location() *time.Location
}

// ProtocolErrorObserver may be implemented by a Session to hear about
// errors pgwire raises on its own, without calling the engine: a Bind with
// the wrong parameter count or an undecodable value, an unknown statement
// or portal, a malformed message. PostgreSQL treats these like any other
// error in the current transaction: an open transaction block becomes
// failed ('E') and an implicit transaction is rolled back at Sync. A
// Session that does not implement this interface cannot know about them.
type ProtocolErrorObserver interface {
	ProtocolError(err *pgerr.Error)
}

// StatementObserver may be implemented by a Session that lists the
// protocol-level named prepared statements (pg_prepared_statements):
// pgwire reports each named Parse that succeeded and each Close of one.
type StatementObserver interface {
	StatementPrepared(name string, st Statement)
	StatementClosed(name string)
}
