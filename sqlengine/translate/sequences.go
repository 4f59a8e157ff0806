package translate

import (
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Sequence functions: nextval, currval, lastval, setval, and the session
// values currval/lastval read across transactions (see Plan.SessionSeqs).

// sequenceArg resolves the regclass argument of nextval/currval/setval.
func (t *translator) sequenceArg(s *scope, n *pg.Node) (uint32, error) {
	e, err := t.expr(s, n)
	if err != nil {
		return 0, err
	}
	if e.lit == nil {
		if e.typ == pgval.RegclassOID {
			if v, err := strconv.ParseUint(e.sql, 10, 32); err == nil {
				return t.checkSequence(uint32(v))
			}
		}
		return 0, pgerr.Unsupported("sequence functions with a non-constant argument")
	}
	rel, err := t.relationByText(*e.lit)
	if err != nil {
		return 0, err
	}
	return t.checkSequence(rel.OID)
}

func (t *translator) checkSequence(oid uint32) (uint32, error) {
	rel, ok := t.cat.Relation(oid)
	if !ok || rel.Kind != catalog.KindSequence {
		return 0, pgerr.New(pgerr.WrongObjectType, "relation with OID %d is not a sequence", oid)
	}
	t.seqs[oid] = true
	return oid, nil
}

// relationByText resolves 'schema.name' or 'name' as regclass input does.
func (t *translator) relationByText(text string) (*catalog.Relation, error) {
	schema, name := "", strings.TrimSpace(text)
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		schema, name = name[:i], name[i+1:]
	}
	schema, name = unquoteIdent(schema), unquoteIdent(name)
	rel, ok := t.lookupRel(schema, name, append([]string{"pg_catalog"}, t.opts.SearchPath...))
	if !ok {
		return nil, pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", text)
	}
	return rel, nil
}

func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToLower(s)
}

func fnNextval(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function nextval takes one argument")
	}
	oid, err := t.sequenceArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	t.volatile = true
	return typed("chr2_nextval("+oidLit(oid)+")", int8, "nextval"), nil
}

func fnCurrval(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function currval takes one argument")
	}
	oid, err := t.sequenceArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	name := strconv.FormatUint(uint64(oid), 10)
	if rel, ok := t.cat.Relation(oid); ok {
		name = rel.Name
	}
	return typed("chr2_currval("+oidLit(oid)+", "+t.sessionSeqArg(oid)+", "+sqltype.QuoteString(name)+")", int8, "currval"), nil
}

// fnLastval is lastval(): the session's last nextval result.
func fnLastval(t *translator, _ *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 0 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function lastval takes no arguments")
	}
	return typed("chr2_lastval("+t.sessionSeqArg(0)+")", int8, "lastval"), nil
}

// sessionSeqArg is a placeholder for the session's currval of a sequence
// (lastval for OID 0); bindSessionSeqs turns it into a parameter number
// once the statement's own parameters are counted.
func (t *translator) sessionSeqArg(oid uint32) string {
	i := slices.Index(t.sessionSeqs, oid)
	if i < 0 {
		i = len(t.sessionSeqs)
		t.sessionSeqs = append(t.sessionSeqs, oid)
	}
	return sessionSeqToken(i)
}

func sessionSeqToken(i int) string { return "\x00seq" + strconv.Itoa(i) + "\x00" }

// bindSessionSeqs numbers the session-value placeholders after the
// parameters, in plan and in the queries it carries (COPY, DECLARE).
func (t *translator) bindSessionSeqs(plan *Plan) {
	if len(t.sessionSeqs) == 0 || plan == nil {
		return
	}
	plan.SessionSeqs = t.sessionSeqs
	n := len(plan.Params)
	for i := range plan.Steps {
		st := &plan.Steps[i]
		if !strings.Contains(st.SQL, "\x00seq") {
			continue
		}
		for k := range t.sessionSeqs {
			st.SQL = strings.ReplaceAll(st.SQL, sessionSeqToken(k), "?"+strconv.Itoa(n+1+k))
		}
		st.Args = t.argsFor("")
		for k := range t.sessionSeqs {
			st.Args = append(st.Args, Arg{Param: n + 1 + k, Type: pgval.Int8OID})
		}
	}
	if plan.Copy != nil && plan.Copy.Query != nil {
		plan.Copy.Query.Params = plan.Params
		t.bindSessionSeqs(plan.Copy.Query)
	}
	if plan.Cursor != nil && plan.Cursor.Query != nil {
		plan.Cursor.Query.Params = plan.Params
		t.bindSessionSeqs(plan.Cursor.Query)
	}
}

func fnSetval(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 2 || len(fc.Args) > 3 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function setval takes two or three arguments")
	}
	oid, err := t.sequenceArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	v, err := t.exprAs(s, fc.Args[1], int8)
	if err != nil {
		return expr{}, err
	}
	called := "1"
	if len(fc.Args) == 3 {
		c, err := t.exprAs(s, fc.Args[2], boolT)
		if err != nil {
			return expr{}, err
		}
		called = c.sql
	}
	t.volatile = true
	return typed("chr2_setval("+oidLit(oid)+", "+v.sql+", "+called+")", int8, "setval"), nil
}
