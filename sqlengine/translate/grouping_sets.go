package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// GROUP BY ROLLUP/CUBE/GROUPING SETS and grouping(). SQLite has none of
// them, so a query with grouping sets becomes one grouped SELECT per set,
// combined with UNION ALL:
//
//	SELECT cols FROM (SELECT cols, hidden… FROM … GROUP BY set1 HAVING …
//	  UNION ALL SELECT cols, hidden… FROM … GROUP BY set2 HAVING …) AS "_gs"
//	ORDER BY … LIMIT …
//
// In each arm the grouping expressions not in its set read as NULL of
// their type (outside aggregate arguments, as PostgreSQL's grouping-set
// references) and grouping() is the constant bit mask of that arm. ORDER
// BY items that are not output columns are computed in every arm as hidden
// columns, so ORDER BY, DISTINCT and LIMIT apply to the whole result. Every
// arm also computes a hidden count(*): it makes the arm of the empty set
// an aggregate query (one row even over no input), as PostgreSQL's.

// gsetArm is the grouping set one arm of the UNION ALL translates.
type gsetArm struct {
	all     []*pg.Node // every grouping expression of the query
	bare    []*pg.Node // all, locations cleared
	in      []bool     // whether all[i] is grouped in this arm
	groupBy []*pg.Node // this arm's GROUP BY
}

const (
	maxGroupingSets = 4096 // PostgreSQL's limit
	maxCubeElements = 12
)

// usesGroupingSets reports whether a SELECT needs the UNION ALL form: its
// GROUP BY has grouping sets, or a grouped query calls grouping().
func usesGroupingSets(sel *pg.SelectStmt) bool {
	for _, n := range sel.GroupClause {
		if n.GetGroupingSet() != nil {
			return true
		}
	}
	if len(sel.GroupClause) == 0 {
		return false
	}
	found := false
	check := func(m proto.Message) {
		if _, ok := m.(*pg.GroupingFunc); ok {
			found = true
		}
	}
	walkGroupedExprs(sel, check)
	return found
}

// walkGroupedExprs walks the parts of a SELECT evaluated per group: the
// select list, HAVING and ORDER BY.
func walkGroupedExprs(sel *pg.SelectStmt, fn func(proto.Message)) {
	for _, n := range sel.TargetList {
		walkTree(n.ProtoReflect(), fn)
	}
	for _, n := range sel.SortClause {
		walkTree(n.ProtoReflect(), fn)
	}
	if sel.HavingClause != nil {
		walkTree(sel.HavingClause.ProtoReflect(), fn)
	}
}

func (t *translator) groupingSetsSelect(s *scope, sel *pg.SelectStmt) (query, error) {
	if err := refuseWithGroupingSets(sel); err != nil {
		return query{}, err
	}
	sets, err := expandGroupBy(sel.GroupClause)
	if err != nil {
		return query{}, err
	}
	if sets, err = t.resolveGroupingSets(s, sel, sets); err != nil {
		return query{}, err
	}
	if sel.GroupDistinct {
		sets = distinctSets(sets)
	}
	all := uniqueNodes(sets)
	armSel, hidden := gsetArmSelect(sel, all)
	arms := make([]string, 0, len(sets))
	var cols []outCol
	for _, set := range sets {
		arm := &gsetArm{all: all, groupBy: set, in: make([]bool, len(all))}
		for i, n := range all {
			arm.bare = append(arm.bare, withoutLocations(n))
			arm.in[i] = containsNode(set, n)
		}
		q, err := t.simpleSelect(&scope{parent: s.parent, gset: arm}, armSel)
		if err != nil {
			return query{}, err
		}
		arms = append(arms, wrapCompound(q.sql))
		cols = q.cols
	}
	nHidden := 1
	for _, h := range hidden {
		if h {
			nHidden++
		}
	}
	visible := cols[:len(cols)-nHidden]
	out := make([]outCol, len(visible))
	names := make([]string, len(visible))
	for i, c := range visible {
		out[i] = c
		out[i].expr = expr{sql: quote(c.sqlName), typ: c.Type, mod: c.TypMod, name: c.Name}
		names[i] = quote(c.sqlName)
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	if len(sel.DistinctClause) > 0 {
		b.WriteString("DISTINCT ")
	}
	b.WriteString(strings.Join(names, ", ") + " FROM (" + strings.Join(arms, " UNION ALL ") + `) AS "_gs"`)
	if err := t.gsetOrder(&b, sel, hidden, cols, out); err != nil {
		return query{}, err
	}
	limit, err := t.limitClause(s, sel)
	b.WriteString(limit)
	return query{sql: b.String(), cols: out}, err
}

// refuseWithGroupingSets rejects what the UNION ALL form cannot express:
// window functions (they run over the whole result), DISTINCT ON, and
// subqueries that could read a grouping column (it would not read NULL).
func refuseWithGroupingSets(sel *pg.SelectStmt) error {
	if len(sel.DistinctClause) > 0 && sel.DistinctClause[0].GetNode() != nil {
		return pgerr.Unsupported("DISTINCT ON with grouping sets")
	}
	var failure error
	check := func(m proto.Message) {
		switch x := m.(type) {
		case *pg.FuncCall:
			if x.Over != nil && failure == nil {
				failure = pgerr.Unsupported("window functions with grouping sets")
			}
		case *pg.SubLink:
			if failure == nil {
				failure = pgerr.Unsupported("subqueries in the select list, HAVING or ORDER BY of a query with grouping sets")
			}
		}
	}
	walkGroupedExprs(sel, check)
	return failure
}

// expandGroupBy lists the grouping sets of a GROUP BY clause: the cross
// product of its items' sets, as PostgreSQL's expand_grouping_sets.
func expandGroupBy(items []*pg.Node) ([][]*pg.Node, error) {
	out := [][]*pg.Node{{}}
	for _, it := range items {
		sets, err := expandGroupItem(it)
		if err != nil {
			return nil, err
		}
		if len(out)*len(sets) > maxGroupingSets {
			return nil, pgerr.New(pgerr.StatementTooComplex, "too many grouping sets present (maximum %d)", maxGroupingSets)
		}
		next := make([][]*pg.Node, 0, len(out)*len(sets))
		for _, a := range out {
			for _, b := range sets {
				next = append(next, append(append([]*pg.Node{}, a...), b...))
			}
		}
		out = next
	}
	return out, nil
}

// expandGroupItem lists the sets of one GROUP BY item.
func expandGroupItem(n *pg.Node) ([][]*pg.Node, error) {
	gs := n.GetGroupingSet()
	if gs == nil {
		return [][]*pg.Node{{n}}, nil
	}
	switch gs.Kind {
	case pg.GroupingSetKind_GROUPING_SET_EMPTY:
		return [][]*pg.Node{{}}, nil
	case pg.GroupingSetKind_GROUPING_SET_SIMPLE:
		return [][]*pg.Node{gs.Content}, nil
	case pg.GroupingSetKind_GROUPING_SET_ROLLUP:
		elems := rowElements(gs.Content)
		out := make([][]*pg.Node, 0, len(elems)+1)
		for k := len(elems); k >= 0; k-- {
			out = append(out, concatNodes(elems[:k]))
		}
		return out, nil
	case pg.GroupingSetKind_GROUPING_SET_CUBE:
		elems := rowElements(gs.Content)
		if len(elems) > maxCubeElements {
			return nil, pgerr.New(pgerr.TooManyColumns, "CUBE is limited to %d elements", maxCubeElements).
				WithPosition(gs.Location + 1)
		}
		out := make([][]*pg.Node, 0, 1<<len(elems))
		for mask := (1 << len(elems)) - 1; mask >= 0; mask-- {
			var set []*pg.Node
			for i, e := range elems {
				if mask&(1<<(len(elems)-1-i)) != 0 {
					set = append(set, e...)
				}
			}
			out = append(out, set)
		}
		return out, nil
	}
	var out [][]*pg.Node
	for _, c := range gs.Content {
		if c.GetGroupingSet() != nil {
			sets, err := expandGroupItem(c)
			if err != nil {
				return nil, err
			}
			out = append(out, sets...)
			continue
		}
		out = append(out, rowElements([]*pg.Node{c})[0])
	}
	return out, nil
}

// rowElements splits ROLLUP/CUBE/GROUPING SETS content into elements: a
// parenthesized list (an implicit ROW) is one element of several
// expressions.
func rowElements(content []*pg.Node) [][]*pg.Node {
	out := make([][]*pg.Node, len(content))
	for i, c := range content {
		if r := c.GetRowExpr(); r != nil && r.RowFormat == pg.CoercionForm_COERCE_IMPLICIT_CAST {
			out[i] = r.Args
			continue
		}
		out[i] = []*pg.Node{c}
	}
	return out
}

func concatNodes(lists [][]*pg.Node) []*pg.Node {
	out := []*pg.Node{}
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// resolveGroupingSets replaces output column positions and names in the
// sets by the select list expressions they stand for, as for a plain GROUP
// BY; the FROM clause is translated into a scratch scope to tell input
// column names from output names.
func (t *translator) resolveGroupingSets(s *scope, sel *pg.SelectStmt, sets [][]*pg.Node) ([][]*pg.Node, error) {
	probe := &scope{parent: s.parent}
	if len(sel.FromClause) > 0 {
		if _, err := t.fromClause(probe, sel.FromClause); err != nil {
			return nil, err
		}
	}
	g := &groupCheck{t: t, s: probe}
	out := make([][]*pg.Node, len(sets))
	for i, set := range sets {
		out[i] = make([]*pg.Node, len(set))
		for j, n := range set {
			out[i][j] = g.groupTarget(n, sel.TargetList)
		}
	}
	return out, nil
}

// distinctSets drops repeated grouping sets (GROUP BY DISTINCT).
func distinctSets(sets [][]*pg.Node) [][]*pg.Node {
	var out [][]*pg.Node
	for _, set := range sets {
		dup := false
		for _, o := range out {
			dup = dup || sameNodeSet(set, o)
		}
		if !dup {
			out = append(out, set)
		}
	}
	return out
}

func sameNodeSet(a, b []*pg.Node) bool {
	for _, n := range a {
		if !containsNode(b, n) {
			return false
		}
	}
	for _, n := range b {
		if !containsNode(a, n) {
			return false
		}
	}
	return true
}

func containsNode(list []*pg.Node, n *pg.Node) bool {
	bare := withoutLocations(n)
	for _, m := range list {
		if proto.Equal(withoutLocations(m), bare) {
			return true
		}
	}
	return false
}

// uniqueNodes lists every expression of the sets once.
func uniqueNodes(sets [][]*pg.Node) []*pg.Node {
	var out []*pg.Node
	for _, set := range sets {
		for _, n := range set {
			if !containsNode(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// gsetArmSelect is the SELECT every arm translates: GROUP BY lists every
// grouping expression (for the 42803 check; each arm emits its own set),
// the hidden ORDER BY columns and count(*) end the select list, and ORDER
// BY, LIMIT and DISTINCT are left to the outer query. hidden tells, per
// ORDER BY item, whether the arms compute it (as "_gs_o<n>") or it names
// an output column.
func gsetArmSelect(sel *pg.SelectStmt, all []*pg.Node) (*pg.SelectStmt, []bool) {
	arm := proto.Clone(sel).(*pg.SelectStmt)
	arm.GroupClause = all
	arm.SortClause, arm.LimitCount, arm.LimitOffset, arm.DistinctClause, arm.WithClause = nil, nil, nil, nil, nil
	names := staticOutputNames(sel.TargetList)
	hidden := make([]bool, len(sel.SortClause))
	for i, n := range sel.SortClause {
		key := n.GetSortBy().Node
		if outputColumnRef(key, names) {
			continue
		}
		hidden[i] = true
		arm.TargetList = append(arm.TargetList, resTarget(hiddenOrderName(i), key))
	}
	count := &pg.Node{Node: &pg.Node_FuncCall{FuncCall: &pg.FuncCall{
		Funcname: []*pg.Node{{Node: &pg.Node_String_{String_: &pg.String{Sval: "count"}}}}, AggStar: true}}}
	arm.TargetList = append(arm.TargetList, resTarget("_gs_n", count))
	return arm, hidden
}

func hiddenOrderName(i int) string { return "_gs_o" + strconv.Itoa(i+1) }

func resTarget(name string, val *pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Name: name, Val: val}}}
}

// staticOutputNames are the select list's output names known before
// translation (alias, column name, function name).
func staticOutputNames(targets []*pg.Node) map[string]bool {
	out := map[string]bool{}
	for _, n := range targets {
		rt := n.GetResTarget()
		switch {
		case rt.Name != "":
			out[rt.Name] = true
		case rt.Val.GetColumnRef() != nil:
			f := rt.Val.GetColumnRef().Fields
			out[strVal(f[len(f)-1])] = true
		case rt.Val.GetFuncCall() != nil:
			out[funcName(rt.Val.GetFuncCall())] = true
		case rt.Val.GetGroupingFunc() != nil:
			out["grouping"] = true
		}
	}
	return out
}

// outputColumnRef reports whether an ORDER BY key names an output column
// by position or by name (output names win in ORDER BY).
func outputColumnRef(key *pg.Node, names map[string]bool) bool {
	if c := key.GetAConst(); c != nil {
		_, ok := c.Val.(*pg.A_Const_Ival)
		return ok
	}
	if cr := key.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
		if _, star := cr.Fields[0].Node.(*pg.Node_AStar); !star {
			return names[strVal(cr.Fields[0])]
		}
	}
	return false
}

// gsetOrder appends the outer ORDER BY: output columns by position or
// name, other items through their hidden columns. With DISTINCT an item
// must be an output column, as in PostgreSQL (42P10).
func (t *translator) gsetOrder(b *strings.Builder, sel *pg.SelectStmt, hidden []bool, cols, out []outCol) error {
	if len(sel.SortClause) == 0 {
		return nil
	}
	parts := make([]string, len(sel.SortClause))
	for i, n := range sel.SortClause {
		sb := n.GetSortBy()
		var e expr
		var err error
		if hidden[i] {
			e, err = t.hiddenSortKey(sel, i, cols, out)
		} else {
			e, err = t.sortKey(&scope{}, sb.Node, out)
		}
		if err != nil {
			return err
		}
		parts[i] = t.sortKeySQL(e) + sortSuffix(sb)
	}
	b.WriteString(" ORDER BY " + strings.Join(parts, ", "))
	return nil
}

// hiddenSortKey is the outer reference to the i-th ORDER BY item's hidden
// column; with DISTINCT it must equal a select list expression.
func (t *translator) hiddenSortKey(sel *pg.SelectStmt, i int, cols, out []outCol) (expr, error) {
	sb := sel.SortClause[i].GetSortBy()
	if len(sel.DistinctClause) > 0 {
		key := withoutLocations(sb.Node)
		for j, n := range sel.TargetList {
			if j < len(out) && proto.Equal(withoutLocations(n.GetResTarget().Val), key) {
				return out[j].expr, nil
			}
		}
		return expr{}, pgerr.New(pgerr.InvalidColumnReference,
			"for SELECT DISTINCT, ORDER BY expressions must appear in select list").WithPosition(sortLocation(sb) + 1)
	}
	name := hiddenOrderName(i)
	for _, c := range cols {
		if c.sqlName == name {
			return expr{sql: quote(`_gs`) + "." + quote(name), typ: c.Type, mod: c.TypMod, name: name}, nil
		}
	}
	return expr{}, pgerr.New(pgerr.InternalError, "hidden ORDER BY column %s missing", name)
}

// match finds the grouping expression n is, or -1: a column reference by
// the column it resolves to, another expression by its parse tree.
func (a *gsetArm) match(t *translator, s *scope, n *pg.Node) int {
	if n.Node == nil || n.GetAConst() != nil {
		return -1
	}
	if cr := n.GetColumnRef(); cr != nil {
		g := &groupCheck{t: t, s: s}
		it, col, ok := g.resolve(cr)
		if !ok {
			return -1
		}
		for i, m := range a.all {
			if mcr := m.GetColumnRef(); mcr != nil {
				if it2, col2, ok := g.resolve(mcr); ok && it2 == it && col2 == col {
					return i
				}
			}
		}
		return -1
	}
	bare := withoutLocations(n)
	for i, m := range a.bare {
		if proto.Equal(bare, m) {
			return i
		}
	}
	return -1
}

// groupingSetRef translates a grouping expression in an arm: as itself if
// the arm groups by it, else as a NULL of its type. ok is false for other
// expressions.
func (t *translator) groupingSetRef(s *scope, n *pg.Node) (expr, bool, error) {
	arm := s.gset
	i := arm.match(t, s, n)
	if i < 0 {
		return expr{}, false, nil
	}
	s.gset = nil // the expression's parts are not grouping references
	e, err := t.expr(s, n)
	s.gset = arm
	if err != nil || arm.in[i] {
		return e, true, err
	}
	if e.lit != nil || e.null || e.typ == pgval.UnknownOID || e.typ == pgval.Unspecified {
		if e, err = t.coerce(e, pgval.TextOID); err != nil {
			return expr{}, true, err
		}
	}
	e.sql, e.lit, e.null, e.col = "NULL", nil, false, nil
	return e, true, nil
}

// groupingFunc translates grouping(a, …): bit i (from the right, last
// argument first) is set when the i-th argument is not grouped in this
// arm — a constant per arm.
func (t *translator) groupingFunc(s *scope, gf *pg.GroupingFunc) (expr, error) {
	if s == nil || !s.aggAllowed {
		return expr{}, pgerr.New(pgerr.GroupingError, "grouping operations are not allowed here").
			WithPosition(gf.Location + 1)
	}
	if len(gf.Args) > 31 {
		return expr{}, pgerr.New(pgerr.TooManyArguments, "GROUPING must have fewer than 32 arguments").
			WithPosition(gf.Location + 1)
	}
	bits := 0
	for i, a := range gf.Args {
		j := -1
		if s.gset != nil {
			j = s.gset.match(t, s, a)
		}
		if j < 0 {
			return expr{}, pgerr.New(pgerr.GroupingError,
				"arguments to GROUPING must be grouping expressions of the associated query level").
				WithPosition(argLocation(a, gf.Location) + 1)
		}
		if !s.gset.in[j] {
			bits |= 1 << (len(gf.Args) - 1 - i)
		}
	}
	return typed(strconv.Itoa(bits), pgval.Int4OID, "grouping"), nil
}

// argLocation is where a grouping() argument starts, for error positions.
func argLocation(n *pg.Node, fallback int32) int32 {
	if cr := n.GetColumnRef(); cr != nil {
		return cr.Location
	}
	return fallback
}
