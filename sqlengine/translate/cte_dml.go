package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Data-modifying WITH queries (WITH d AS (DELETE … RETURNING …) …).
//
// SQLite has no DML in common table expressions, so such a statement runs
// as a sequence of steps of one statement record — one log entry, one
// savepoint, all or nothing:
//
//  1. every WITH query, in the order written: a data-modifying one runs
//     to completion exactly once, referenced or not; when something
//     references it, its RETURNING rows are captured into a temporary
//     table (Step.Feed). A plain SELECT query a data-modifying one reads is
//     materialized into a temporary table the same way, so it is evaluated
//     once; the other SELECT queries stay an ordinary WITH of the main
//     statement;
//  2. the main statement, which reads the captured rows;
//  3. the temporary tables are dropped.
//
// PostgreSQL runs all parts on one snapshot: no part sees another's changes
// to the tables, only the RETURNING rows. Run one after another, a part
// would see the changes of the parts before it, so every statement in which
// that could make a difference is refused with 0A000 instead (checkAccess):
// a table modified by one part and read or modified by any other (including
// through ON DELETE/UPDATE actions of foreign keys), a sequence drawn from by
// two parts (PostgreSQL interleaves the parts, so the values would go to
// other rows), and a foreign key whose check in an earlier part could depend
// on a later part (PostgreSQL checks them all at the end of the statement).

// access is what one part of a statement reads and writes.
type access struct {
	reads   map[uint32]bool
	writes  map[uint32]byte // relation OID → writeInsert|writeUpdate|writeDelete
	casc    map[uint32]byte // what foreign key actions of writes modify
	anyRead bool            // read a view whose tables could not be resolved
	ctes    map[*cte]bool   // WITH queries referenced
	seqs    map[uint32]bool
}

const (
	writeInsert byte = 1 << iota
	writeUpdate
	writeDelete
)

func newAccess() *access {
	return &access{reads: map[uint32]bool{}, writes: map[uint32]byte{}, ctes: map[*cte]bool{}}
}

// withPart is one WITH query of a statement with data-modifying queries.
type withPart struct {
	def   *cte
	dml   *Plan  // data-modifying: its translation (with RETURNING)
	sql   string // SELECT: its translation
	cols  []string
	rec   bool // SELECT: WITH RECURSIVE
	acc   *access
	store bool // captured/materialized into a temporary table
}

// hasModifying reports whether a WITH clause has a data-modifying query.
func hasModifying(w *pg.WithClause) bool {
	for _, n := range w.Ctes {
		if _, ok := n.GetCommonTableExpr().Ctequery.Node.(*pg.Node_SelectStmt); !ok {
			return true
		}
	}
	return false
}

func notTopLevel() *pgerr.Error {
	return pgerr.New(pgerr.FeatureNotSupported, "WITH clause containing a data-modifying statement must be at the top level")
}

// withStatement translates a statement carrying WITH clause w; body
// translates the statement without it.
func (t *translator) withStatement(w *pg.WithClause, body func() (*Plan, error)) (*Plan, error) {
	if hasModifying(w) {
		if t.inWith {
			return nil, notTopLevel()
		}
		return t.modifyingWith(w, body)
	}
	prefix, err := t.withClause(&scope{}, w)
	if err != nil {
		return nil, err
	}
	defer t.popCTEs()
	plan, err := body()
	if err != nil {
		return nil, err
	}
	if len(plan.Steps) != 1 {
		return nil, pgerr.Unsupported("WITH on this statement")
	}
	plan.Steps[0].SQL = prefix + plan.Steps[0].SQL
	return plan, nil
}

// modifyingWith translates a top-level statement whose WITH clause has
// data-modifying queries (see the comment at the top of the file).
func (t *translator) modifyingWith(w *pg.WithClause, body func() (*Plan, error)) (*Plan, error) {
	frame := map[string]*cte{}
	t.ctes = append(t.ctes, frame)
	defer t.popCTEs()
	if err := forwardReference(w); err != nil {
		return nil, err
	}
	parts := make([]*withPart, len(w.Ctes))
	for i, n := range w.Ctes {
		c := n.GetCommonTableExpr()
		if frame[c.Ctename] != nil {
			return nil, pgerr.New(pgerr.DuplicateAlias, "WITH query name %q specified more than once", c.Ctename).
				WithPosition(c.Location + 1)
		}
		p, err := t.tracked(func() (*withPart, error) { return t.withPart(c, i, w.Recursive, frame) })
		if err != nil {
			return nil, err
		}
		parts[i] = p
		frame[c.Ctename] = p.def
	}
	var outer *Plan
	outerAcc, err := t.trackedAccess(func() (err error) { outer, err = body(); return err })
	if err != nil {
		return nil, err
	}
	if len(outer.Steps) != 1 || outer.Kind != KindQuery && outer.Kind != KindWrite {
		return nil, pgerr.Unsupported("this statement with a data-modifying WITH query")
	}
	markStored(parts, outerAcc)
	if err := t.checkAccess(parts, outerAcc); err != nil {
		return nil, err
	}
	return withSteps(parts, outer, w.Recursive, t.argsFor("")), nil
}

// tracked runs fn with a fresh access record and sequence set, which it
// stores in the part fn returns.
func (t *translator) tracked(fn func() (*withPart, error)) (*withPart, error) {
	var p *withPart
	acc, err := t.trackedAccess(func() (err error) { p, err = fn(); return err })
	if err != nil {
		return nil, err
	}
	p.acc = acc
	return p, nil
}

func (t *translator) trackedAccess(fn func() error) (*access, error) {
	acc := newAccess()
	saved, savedSeqs := t.access, t.seqs
	t.access, t.seqs = acc, map[uint32]bool{}
	err := fn()
	acc.seqs = t.seqs
	t.access, t.seqs = saved, savedSeqs
	for oid := range acc.seqs {
		t.seqs[oid] = true
	}
	return acc, err
}

// withPart translates WITH query i.
func (t *translator) withPart(c *pg.CommonTableExpr, i int, recursive bool, frame map[string]*cte) (*withPart, error) {
	name := "_chr2_cte_" + strconv.Itoa(i+1)
	aliases := names(c.Aliascolnames)
	p := &withPart{def: &cte{name: name}}
	if sel, ok := c.Ctequery.Node.(*pg.Node_SelectStmt); ok {
		q, err := t.cteQuery(&scope{}, c, sel.SelectStmt, recursive, frame, name)
		if err != nil {
			return nil, err
		}
		p.sql, p.rec = q.sql, recursive
		for k, col := range q.cols {
			p.cols = append(p.cols, col.sqlName)
			p.def.cols = append(p.def.cols, scopeCol{name: aliasOr(aliases, k, col.Name), sqlName: col.sqlName, typ: col.Type, mod: col.TypMod})
		}
		return p, nil
	}
	t.inWith = true
	plan, err := t.statement(c.Ctequery)
	t.inWith = false
	if err != nil {
		return nil, err
	}
	if len(plan.Steps) != 1 || plan.Kind != KindWrite {
		return nil, pgerr.Unsupported("this data-modifying statement in WITH")
	}
	p.dml = plan
	p.def.noReturning = len(plan.Columns) == 0
	p.def.name = c.Ctename // named in the error when referenced
	if !p.def.noReturning {
		p.def.name = name
	}
	for k, col := range plan.Columns {
		sqlName := "_c" + strconv.Itoa(k+1)
		p.cols = append(p.cols, sqlName)
		p.def.cols = append(p.def.cols, scopeCol{name: aliasOr(aliases, k, col.Name), sqlName: sqlName, typ: col.Type, mod: col.TypMod})
	}
	return p, nil
}

// forwardReference refuses a WITH RECURSIVE query naming a later one (or,
// data-modifying, itself): PostgreSQL orders them by their references, the
// parts here run in the order written.
func forwardReference(w *pg.WithClause) error {
	if !w.Recursive {
		return nil // a later name is a table, as in PostgreSQL
	}
	pos := map[string]int{}
	for i, n := range w.Ctes {
		pos[n.GetCommonTableExpr().Ctename] = i
	}
	var err error
	for i, n := range w.Ctes {
		c := n.GetCommonTableExpr()
		_, plain := c.Ctequery.Node.(*pg.Node_SelectStmt)
		walkTree(c.Ctequery.ProtoReflect(), func(m proto.Message) {
			rv, ok := m.(*pg.RangeVar)
			if !ok || rv.Schemaname != "" || err != nil {
				return
			}
			if j, found := pos[rv.Relname]; found && (j > i || j == i && !plain) {
				err = pgerr.Unsupported("a WITH RECURSIVE query referring to " + strconv.Quote(rv.Relname) +
					" before it is defined or from a data-modifying query")
			}
		})
	}
	return err
}

func aliasOr(aliases []string, i int, name string) string {
	if i < len(aliases) {
		return aliases[i]
	}
	return name
}

// markStored decides which parts go into temporary tables: a referenced
// data-modifying query, and a SELECT query a stored part references.
// References only point to earlier parts (or a part itself).
func markStored(parts []*withPart, outer *access) {
	used := map[*cte]bool{}
	for c := range outer.ctes {
		used[c] = true
	}
	for _, p := range parts {
		for c := range p.acc.ctes {
			if c != p.def {
				used[c] = true
			}
		}
	}
	need := map[*cte]bool{}
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		p.store = p.dml != nil && used[p.def] || p.dml == nil && need[p.def]
		if p.dml != nil || p.store {
			for c := range p.acc.ctes {
				need[c] = true
			}
		}
	}
}

// withSteps assembles the statement: the parts, the main statement, the
// clean-up.
// Every step that runs translated SQL binds all parameters (args).
func withSteps(parts []*withPart, outer *Plan, recursive bool, args []Arg) *Plan {
	var steps, drops []Step
	var inline []string
	for _, p := range parts {
		table := quote(p.def.name)
		cols := quotedList(p.cols)
		switch {
		case p.dml != nil && !p.store:
			steps = append(steps, Step{SQL: p.dml.Steps[0].SQL, Args: args})
		case p.dml != nil:
			marks := make([]string, len(p.cols))
			for i := range marks {
				marks[i] = "?" + strconv.Itoa(i+1)
			}
			steps = append(steps, Step{SQL: "CREATE TEMP TABLE " + table + " (" + cols + ")"},
				Step{SQL: p.dml.Steps[0].SQL, Args: args, Feed: true},
				Step{SQL: "INSERT INTO temp." + table + " VALUES (" + strings.Join(marks, ", ") + ")"})
		case p.store:
			steps = append(steps, Step{SQL: "CREATE TEMP TABLE " + table + " (" + cols + ")"},
				Step{SQL: withKeyword(p.rec) + table + " (" + cols + ") AS (" + p.sql + ") INSERT INTO temp." + table +
					" SELECT * FROM " + table, Args: args})
		default:
			inline = append(inline, table+" ("+cols+") AS ("+p.sql+")")
			continue
		}
		if p.store {
			drops = append(drops, Step{SQL: "DROP TABLE temp." + table})
		}
	}
	main := outer.Steps[0]
	if len(inline) > 0 {
		main.SQL = withKeyword(recursive) + strings.Join(inline, ", ") + " " + main.SQL
	}
	main.Count, main.Args = true, args
	plan := *outer
	plan.Kind = KindWrite
	plan.Steps = append(append(steps, main), drops...)
	return &plan
}

func withKeyword(recursive bool) string {
	if recursive {
		return "WITH RECURSIVE "
	}
	return "WITH "
}

func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
