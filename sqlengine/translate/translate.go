package translate

import (
	"errors"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pganalyze/pg_query_go/v5/parser"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// Options carry the session settings translation depends on.
type Options struct {
	SearchPath []string // schemas searched for unqualified names; pg_catalog is always searched first
	User       string
	Database   string
	// Internal marks statements issued by chr2sql itself (the outbox, the
	// migrations), which may write the columns the system owns.
	Internal bool
	// Prepared lists the session's prepared statements
	// (pg_prepared_statements); nil lists none.
	Prepared func() []PreparedStatement
	// ProcessID is the session's backend process id (pg_backend_pid).
	ProcessID uint32
	// TempSchema is the session's temporary schema (TempSchemaName); empty:
	// the session has none and cannot create temporary tables.
	TempSchema string
	// TempInUse is set once the session created a temporary table: until
	// then no relation resolves in TempSchema (a schema of that name can
	// only be another node's session's, or a leftover of a dead one).
	TempInUse bool
	// Settings lists the session's settings (name, value) for pg_settings;
	// nil lists none.
	Settings func() [][2]string
}

// Parse parses sql into raw statements with their source text.
func Parse(sql string) ([]RawStatement, error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, syntaxError(err)
	}
	out := make([]RawStatement, 0, len(tree.Stmts))
	for _, s := range tree.Stmts {
		text := statementText(sql, s)
		out = append(out, RawStatement{Node: s.Stmt, SQL: text})
	}
	return out, nil
}

// RawStatement is one parsed statement.
type RawStatement struct {
	Node *pg.Node // nil for an empty statement
	SQL  string
}

func statementText(sql string, s *pg.RawStmt) string {
	start := int(s.StmtLocation)
	if start > len(sql) {
		return ""
	}
	end := len(sql)
	if s.StmtLen > 0 && start+int(s.StmtLen) <= len(sql) {
		end = start + int(s.StmtLen)
	}
	return strings.TrimSpace(sql[start:end])
}

func syntaxError(err error) error {
	pe := pgerr.New(pgerr.SyntaxError, "%s", err.Error())
	var perr *parser.Error
	if errors.As(err, &perr) {
		pe.Position = int32(perr.Cursorpos)
	}
	return pe
}

// Translate translates one statement against the catalog snapshot cat.
// paramOIDs are the parameter types the client declared (0 = infer).
func Translate(cat *catalog.Catalog, node *pg.Node, paramOIDs []uint32, opts Options) (*Plan, error) {
	t := newTranslator(cat, paramOIDs, opts)
	plan, err := t.statement(node)
	if err != nil {
		return nil, err
	}
	plan.Params = t.finalParams()
	plan.FirstParam = t.firstParam
	t.bindSessionSeqs(plan)
	plan.CatalogVersion = cat.Version
	plan.Volatile = plan.Volatile || t.volatile
	plan.Effects = plan.Effects || t.effects
	for oid := range t.seqs {
		plan.Sequences = append(plan.Sequences, oid)
	}
	sortUint32(plan.Sequences)
	if plan.Kind == KindQuery && plan.Volatile {
		plan.Kind = KindWrite
	}
	return plan, nil
}

// translator holds the state of one statement's translation.
type translator struct {
	cat      *catalog.Catalog
	opts     Options
	params   []pgval.OID
	seqs     map[uint32]bool
	volatile bool
	effects  bool
	ctes     []map[string]*cte
	// nextOID is the next OID DDL in this statement may allocate.
	nextOID uint32
	// aliasSeq numbers generated SQLite aliases.
	aliasSeq int
	// frameTimeOffsets is set while a window frame's RANGE offsets apply to
	// a date/timestamp key (rangeframe.go).
	frameTimeOffsets bool
	// overrides replaces catalog relations while rendering definitions that
	// name a relation this statement renames.
	overrides map[uint32]*catalog.Relation
	// rebuildNames maps the tables a rebuild copies to the SQLite names of
	// their new copies.
	rebuildNames map[uint32]string
	// target is the table an INSERT or UPDATE writes (rowidGuard).
	target *catalog.Relation
	// sessionSeqs are the sequences whose session currval the statement
	// reads (0: lastval), in the order of their argument tokens.
	sessionSeqs []uint32
	// access records what the part of a statement with data-modifying
	// WITH queries being translated reads and writes (cte_access.go).
	access *access
	// inWith is set while a data-modifying WITH query is translated.
	inWith bool
	// firstParam is the first parameter number noted (Plan.FirstParam).
	firstParam int
}

func newTranslator(cat *catalog.Catalog, paramOIDs []uint32, opts Options) *translator {
	if opts.SearchPath == nil {
		opts.SearchPath = []string{"public"}
	}
	t := &translator{cat: cat, opts: opts, seqs: map[uint32]bool{}, nextOID: cat.NextOID}
	for _, o := range paramOIDs {
		t.params = append(t.params, pgval.OID(o))
	}
	return t
}

// finalParams returns parameter types with unresolved ones defaulted to text.
func (t *translator) finalParams() []pgval.OID {
	out := make([]pgval.OID, len(t.params))
	for i, o := range t.params {
		if o == pgval.Unspecified || o == pgval.UnknownOID {
			o = pgval.TextOID
		}
		out[i] = o
	}
	return out
}

func (t *translator) statement(node *pg.Node) (*Plan, error) {
	if node == nil {
		return &Plan{Kind: KindEmpty}, nil
	}
	switch n := node.Node.(type) {
	case *pg.Node_SelectStmt:
		return t.selectPlan(n.SelectStmt)
	case *pg.Node_InsertStmt:
		return t.insertPlan(n.InsertStmt)
	case *pg.Node_UpdateStmt:
		return t.updatePlan(n.UpdateStmt)
	case *pg.Node_DeleteStmt:
		return t.deletePlan(n.DeleteStmt)
	case *pg.Node_CreateStmt:
		return t.createTable(n.CreateStmt)
	case *pg.Node_CreateSchemaStmt:
		return t.createSchema(n.CreateSchemaStmt)
	case *pg.Node_IndexStmt:
		return t.createIndex(n.IndexStmt)
	case *pg.Node_CreateSeqStmt:
		return t.createSequence(n.CreateSeqStmt)
	case *pg.Node_DropStmt:
		return t.drop(n.DropStmt)
	case *pg.Node_TransactionStmt:
		return t.transaction(n.TransactionStmt)
	case *pg.Node_VariableSetStmt:
		return t.set(n.VariableSetStmt)
	case *pg.Node_VariableShowStmt:
		return t.show(n.VariableShowStmt)
	case *pg.Node_VacuumStmt:
		return t.vacuum(n.VacuumStmt)
	case *pg.Node_LockStmt:
		return t.lockTable(n.LockStmt)
	case *pg.Node_TruncateStmt:
		return t.truncate(n.TruncateStmt)
	case *pg.Node_CommentStmt:
		return t.comment(n.CommentStmt)
	case *pg.Node_ViewStmt:
		return t.createView(n.ViewStmt)
	case *pg.Node_AlterSeqStmt:
		return t.alterSequence(n.AlterSeqStmt)
	case *pg.Node_CreateEnumStmt:
		return t.createEnum(n.CreateEnumStmt)
	case *pg.Node_AlterEnumStmt:
		return t.alterEnum(n.AlterEnumStmt)
	case *pg.Node_CreateDomainStmt:
		return t.createDomain(n.CreateDomainStmt)
	case *pg.Node_CreateTableAsStmt:
		if n.CreateTableAsStmt.Objtype != pg.ObjectType_OBJECT_TABLE {
			return nil, pgerr.Unsupported("materialized views")
		}
		return t.createTableAs(n.CreateTableAsStmt.Into, n.CreateTableAsStmt.Query, n.CreateTableAsStmt.IfNotExists)
	case *pg.Node_CreateExtensionStmt:
		return t.createExtension(n.CreateExtensionStmt)
	case *pg.Node_UnlistenStmt:
		// Nothing is ever listened to (LISTEN is not supported).
		return &Plan{Kind: KindNoop, Tag: "UNLISTEN"}, nil
	case *pg.Node_CheckPointStmt:
		return &Plan{Kind: KindNoop, Tag: "CHECKPOINT"}, nil
	case *pg.Node_AlterTableStmt:
		return t.alterTable(n.AlterTableStmt)
	case *pg.Node_RenameStmt:
		return t.rename(n.RenameStmt)
	case *pg.Node_DiscardStmt:
		return t.discard(n.DiscardStmt)
	case *pg.Node_PrepareStmt:
		return t.prepare(n.PrepareStmt)
	case *pg.Node_ExecuteStmt:
		return t.execute(n.ExecuteStmt)
	case *pg.Node_DeallocateStmt:
		return t.deallocate(n.DeallocateStmt)
	case *pg.Node_CopyStmt:
		return t.copyStmt(n.CopyStmt)
	case *pg.Node_DeclareCursorStmt:
		return t.declareCursor(n.DeclareCursorStmt)
	case *pg.Node_FetchStmt:
		return fetchCursor(n.FetchStmt), nil
	case *pg.Node_ClosePortalStmt:
		return &Plan{Kind: KindClose, Tag: "CLOSE CURSOR", Cursor: &CursorOp{Name: n.ClosePortalStmt.Portalname}}, nil
	}
	return nil, pgerr.Unsupported(statementName(node))
}

// statementName names a statement node for error messages ("CREATE VIEW").
// abbreviatedStatements spell out parse node names PostgreSQL shortens.
var abbreviatedStatements = map[string]string{
	"CreateTrig": "CREATE TRIGGER", "CreatePLang": "CREATE LANGUAGE", "CreateFdw": "CREATE FOREIGN DATA WRAPPER",
	"AlterFdw": "ALTER FOREIGN DATA WRAPPER", "CreateForeignServer": "CREATE SERVER", "CreateStats": "CREATE STATISTICS",
	"AlterTSConfiguration": "ALTER TEXT SEARCH CONFIGURATION", "AlterTSDictionary": "ALTER TEXT SEARCH DICTIONARY",
	"Do": "DO", "CreateOpClass": "CREATE OPERATOR CLASS", "CreateOpFamily": "CREATE OPERATOR FAMILY",
	"CreateConversion": "CREATE CONVERSION", "Rule": "CREATE RULE", "CreateAm": "CREATE ACCESS METHOD",
	"Grant": "GRANT/REVOKE", "GrantRole": "GRANT/REVOKE role", "CreateEnum": "CREATE TYPE … AS ENUM",
	"CompositeType": "CREATE TYPE … AS", "CreateRange": "CREATE TYPE … AS RANGE",
}

func statementName(node *pg.Node) string {
	name := fmt.Sprintf("%T", node.Node)
	name = strings.TrimPrefix(name, "*pg_query.Node_")
	name = strings.TrimSuffix(name, "Stmt")
	if full, ok := abbreviatedStatements[name]; ok {
		return full + " statement"
	}
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String()) + " statement"
}

// allocOID hands out the next OID for DDL within this statement.
func (t *translator) allocOID() uint32 {
	oid := t.nextOID
	t.nextOID++
	return oid
}

// noteParam records that parameter n appears, growing the list.
func (t *translator) noteParam(n int) error {
	if n < 1 || n > 65535 {
		return pgerr.New(pgerr.UndefinedParameter, "there is no parameter $%d", n)
	}
	if t.firstParam == 0 {
		t.firstParam = n
	}
	for len(t.params) < n {
		t.params = append(t.params, pgval.Unspecified)
	}
	return nil
}

func sortUint32(s []uint32) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// strVal returns the string of a String node.
func strVal(n *pg.Node) string {
	if s, ok := n.Node.(*pg.Node_String_); ok {
		return s.String_.Sval
	}
	return ""
}

// names joins a list of String nodes ("pg_catalog", "lower").
func names(nodes []*pg.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, strVal(n))
	}
	return out
}

// quote quotes a SQLite identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
