package translate

import (
	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Kind says how the session executes a plan.
type Kind uint8

// Plan kinds.
const (
	KindEmpty    Kind = iota // an empty statement
	KindQuery                // SQLite steps; the last Rows step returns rows; no side effects
	KindWrite                // SQLite steps that change state: must go through the log
	KindTx                   // transaction control, handled by the session
	KindSet                  // SET / RESET, handled by the session
	KindShow                 // SHOW, handled by the session
	KindNoop                 // accepted and ignored with a tag (DISCARD, LISTEN, …)
	KindCopyFrom             // COPY … FROM STDIN
	KindCopyTo               // COPY … TO STDOUT
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
	// Columns describe the returned rows (nil when none).
	Columns []Column
	// SchemaChange is set for DDL: the catalog must be reloaded after the
	// steps ran, and other plans re-translated.
	SchemaChange bool
	// Sequences lists the sequences the steps may draw from (nextval),
	// preloaded before execution.
	Sequences []uint32
	// CatalogVersion is the catalog version the plan was translated against.
	CatalogVersion int64
	// Effects is set when the plan inserts into chr2.effects.
	Effects bool
	// Volatile is set for queries that call nextval/setval or other functions
	// with side effects; such a query is executed as a write.
	Volatile bool

	// Notices are sent to the client before the result (IF NOT EXISTS skips).
	Notices []*pgerr.Error

	Tx   *TxOp
	Set  *SetOp
	Show *ShowOp
	Copy *CopyOp
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
}

// Arg binds one SQLite placeholder.
type Arg struct {
	Param int       // 1-based statement parameter number
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
}

// SetOp is SET name = value / RESET name / RESET ALL / SET LOCAL.
type SetOp struct {
	Name  string // lower-case; "" with ResetAll
	Value string // "" with Reset
	Reset bool
	All   bool
	Local bool
}

// ShowOp is SHOW name.
type ShowOp struct {
	Name string
}

// CopyOp describes COPY FROM STDIN / TO STDOUT.
type CopyOp struct {
	Table     string // SQLite name
	TableOID  uint32
	Columns   []Column
	Format    string // "text", "csv", "binary"
	Delimiter string
	Null      string
	Header    bool
	Quote     string
	Escape    string
	// Insert is the INSERT step used per row for COPY FROM (with ?1..?n).
	Insert *Plan
	// Query is the SELECT for COPY TO.
	Query *Plan
}
