package translate

import (
	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Kind says how the session executes a plan.
type Kind uint8

// Plan kinds.
const (
	KindEmpty      Kind = iota // an empty statement
	KindQuery                  // SQLite steps; the last Rows step returns rows; no side effects
	KindWrite                  // SQLite steps that change state: must go through the log
	KindTx                     // transaction control, handled by the session
	KindSet                    // SET / RESET, handled by the session
	KindShow                   // SHOW, handled by the session
	KindNoop                   // accepted and ignored with a tag (DISCARD, LISTEN, …)
	KindCopyFrom               // COPY … FROM STDIN
	KindCopyTo                 // COPY … TO STDOUT
	KindPrepare                // PREPARE name AS …, handled by the session
	KindExecute                // EXECUTE name (…), handled by the session
	KindDeallocate             // DEALLOCATE [PREPARE] name | ALL
	KindDiscard                // DISCARD ALL | PLANS | SEQUENCES | TEMP
	KindAdvisory               // SELECT pg_advisory_*(…): the leader's lock table
	KindDeclare                // DECLARE name CURSOR FOR …
	KindFetch                  // FETCH / MOVE
	KindClose                  // CLOSE name | ALL
)

// Plan is a translated statement.
type Plan struct {
	Kind Kind
	// Tag is the command tag verb ("SELECT", "INSERT", "CREATE TABLE", …).
	Tag string
	// Steps run in order on one connection inside one transaction scope.
	Steps []Step
	// Params are the types of $1..$n.
	Params []pgval.OID
	// FirstParam is the number of the first parameter the statement
	// refers to (0: none), which PostgreSQL names when a simple query,
	// which has no parameters, refers to one.
	FirstParam int
	// Columns describe the returned rows (nil when none).
	Columns []Column
	// SchemaChange is set for DDL: the catalog must be reloaded after the
	// steps ran, and other plans re-translated.
	SchemaChange bool
	// Sequences lists the sequences the steps may draw from (nextval),
	// preloaded before execution.
	Sequences []uint32
	// SessionSeqs are session values the steps read after their parameters
	// (?n+1, ?n+2, … for n parameters): the session's currval of each
	// sequence OID, or lastval for OID 0. PostgreSQL keeps them per session
	// across transactions; binding them makes replay see the same values.
	SessionSeqs []uint32
	// CatalogVersion is the catalog version the plan was translated against.
	CatalogVersion int64
	// Effects is set when the plan inserts into chr2.effects.
	Effects bool
	// Volatile is set for queries that call nextval/setval or other functions
	// with side effects; such a query is executed as a write.
	Volatile bool

	// Notices are sent to the client before the result (IF NOT EXISTS skips).
	Notices []*pgerr.Error

	// NeedsBlock is set for statements PostgreSQL refuses outside a
	// transaction block (LOCK TABLE).
	NeedsBlock bool

	Tx         *TxOp
	Set        *SetOp
	Show       *ShowOp
	Copy       *CopyOp
	Prepare    *PrepareOp
	Execute    *ExecuteOp
	Deallocate *DeallocateOp
	Discard    string // ALL, PLANS, SEQUENCES or TEMP
	// TempTable names the temporary table a CREATE TABLE made; OnCommit
	// is its ON COMMIT action ("DROP", "DELETE ROWS" or "").
	TempTable string
	OnCommit  string
	Advisory  *AdvisoryOp
	Cursor    *CursorOp
}

// CursorOp is DECLARE, FETCH/MOVE or CLOSE of a SQL-level cursor.
type CursorOp struct {
	Name  string // "" with CLOSE ALL
	Hold  bool   // WITH HOLD: survives the transaction
	Query *Plan  // DECLARE's query
	// FETCH: the direction ("forward", "backward", "absolute",
	// "relative"), the count and whether it is MOVE.
	Direction string
	Count     int64
	Move      bool
}

// PrepareOp is SQL-level PREPARE.
type PrepareOp struct {
	Name   string
	Query  RawStatement
	Params []uint32 // declared parameter types
}

// ExecuteOp is SQL-level EXECUTE; Params are the argument values in
// PostgreSQL text form (nil for NULL).
type ExecuteOp struct {
	Name   string
	Params []any
}

// DeallocateOp is DEALLOCATE name, or ALL.
type DeallocateOp struct {
	Name string
	All  bool
}

// AdvisoryOp is one advisory lock function call.
type AdvisoryOp struct {
	Func   string // pg_advisory_lock, pg_try_advisory_xact_lock_shared, …
	Try    bool
	Unlock bool
	All    bool // pg_advisory_unlock_all
	Shared bool
	Xact   bool
	// Args are the key: one bigint, or two integers.
	Args []AdvisoryArg
}

// AdvisoryArg is a constant key part or a statement parameter.
type AdvisoryArg struct {
	Param int // 1-based parameter number; 0 for a constant
	Const int64
	Null  bool
}

// Step is one SQLite statement.
type Step struct {
	SQL string
	// Args bind ?1..?k: each is a statement parameter converted to the
	// storage form of its type.
	Args []Arg
	// Rows marks the step whose rows are the statement's result.
	Rows bool
	// Count marks the step whose changes() is the row count in the tag.
	Count bool
	// Feed marks a step whose rows are bound, one row at a time, as the
	// arguments of the next step (a data-modifying WITH query's RETURNING
	// rows captured into a temporary table); the next step has no Args.
	Feed bool
}

// Arg binds one SQLite placeholder.
type Arg struct {
	Param int       // 1-based statement parameter number; past len(Plan.Params): a Plan.SessionSeqs value
	Type  pgval.OID // the type the value is converted to
}

// Column describes one result column.
type Column struct {
	Name     string
	Type     pgval.OID
	TypMod   int32
	TableOID uint32
	Attnum   int16
}

// TxKind enumerates transaction control statements.
type TxKind uint8

// Transaction control operations.
const (
	TxBegin TxKind = iota + 1
	TxCommit
	TxRollback
	TxSavepoint
	TxRelease
	TxRollbackTo
)

// TxOp is BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE/ROLLBACK TO.
type TxOp struct {
	Kind      TxKind
	Savepoint string
	ReadOnly  bool
	Chain     bool
	// Isolation is the level BEGIN asked for ("" for the default).
	Isolation string
}

// SetOp is SET name = value / RESET name / RESET ALL / SET LOCAL.
type SetOp struct {
	Name  string // lower-case; "" with ResetAll
	Value string // "" with Reset
	Reset bool
	All   bool
	Local bool
	// Next are further settings of the same statement (SET TRANSACTION
	// ISOLATION LEVEL … READ ONLY).
	Next []SetOp
}

// ShowOp is SHOW name.
type ShowOp struct {
	Name string
}

// CopyOp describes COPY FROM STDIN / TO STDOUT.
type CopyOp struct {
	Table     string // SQLite name
	TableName string // PostgreSQL name (for messages)
	TableOID  uint32
	Columns   []Column // the columns the data holds, in order
	Format    string   // "text" or "csv"
	Delimiter string
	Null      string
	Header    bool
	Quote     string
	Escape    string
	// ForceNull/ForceNotNull name CSV columns whose quoted/unquoted empty
	// values are (not) NULL.
	ForceNull    []string
	ForceNotNull []string
	// Defaults are the SQLite expressions that fill the table's other
	// columns with defaults (COPY FROM), by column name.
	Defaults []CopyDefault
	// Rowid names the column SQLite stores as the rowid, which must not
	// receive NULL (see RowidColumn); "" if none.
	Rowid string
	// OnConflict makes a unique violation name its key (see
	// uniqueViolationClauses); appended to COPY FROM's INSERT.
	OnConflict string
	// Query is the SELECT whose rows COPY TO writes.
	Query *Plan
}

// CopyDefault is one column COPY FROM fills with its default.
type CopyDefault struct {
	Name string
	SQL  string
}
