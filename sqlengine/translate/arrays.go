package translate

import (
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/funcs"
	"google.golang.org/protobuf/proto"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

func arrayFunctionTable() map[string]fnSpec {
	return map[string]fnSpec{
		"array_to_string": {special: fnArrayToString},
		"array_length":    {special: fnArrayLen("length", 2)},
		"array_upper":     {special: fnArrayLen("upper", 2)},
		"array_lower":     {special: fnArrayLen("lower", 2)},
		"cardinality":     {special: fnArrayLen("cardinality", 1)},
		"array_agg":       {special: fnArrayAgg, agg: true},
	}
}

// arrayElemOf returns the element type of an array (or vector) type; for
// int2vector and oidvector it returns the vector type itself, which the
// chr2_array_* functions read as "space-separated".
func arrayElemOf(typ pgval.OID) (pgval.OID, bool) {
	if typ == pgval.Int2VectorOID || typ == pgval.OIDVectorOID {
		return typ, true
	}
	if e := pgval.ArrayElem(typ); e != 0 {
		return e, true
	}
	return 0, false
}

// vectorElem is the element type of a vector "element marker".
func vectorElem(elem pgval.OID) pgval.OID {
	switch elem {
	case pgval.Int2VectorOID:
		return pgval.Int2OID
	case pgval.OIDVectorOID:
		return pgval.OIDOID
	}
	return elem
}

// arrayArg translates an argument that must be an array.
func (t *translator) arrayArg(s *scope, n *pg.Node, fn string) (expr, pgval.OID, error) {
	e, err := t.expr(s, n)
	if err != nil {
		return expr{}, 0, err
	}
	if e.lit != nil || e.param > 0 && e.typ == pgval.Unspecified {
		if e, err = t.coerce(e, pgval.TextArrayOID); err != nil {
			return expr{}, 0, err
		}
	}
	elem, ok := arrayElemOf(e.typ)
	if !ok {
		return expr{}, 0, pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", fn, typeSQLName(e.typ)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	return e, elem, nil
}

func fnArrayToString(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 2 || len(fc.Args) > 3 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function array_to_string with %d arguments does not exist", len(fc.Args))
	}
	arr, elem, err := t.arrayArg(s, fc.Args[0], "array_to_string")
	if err != nil {
		return expr{}, err
	}
	sep, err := t.exprAs(s, fc.Args[1], text)
	if err != nil {
		return expr{}, err
	}
	null := "NULL"
	if len(fc.Args) == 3 {
		n, err := t.exprAs(s, fc.Args[2], text)
		if err != nil {
			return expr{}, err
		}
		null = n.sql
	}
	return expr{sql: "chr2_array_to_string(" + arr.sql + ", " + oidLit(elem) + ", " + sep.sql + ", " + null + ")",
		typ: text, mod: -1, name: "array_to_string", agg: arr.agg}, nil
}

func fnArrayLen(which string, nargs int) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		name := funcName(fc)
		if len(fc.Args) != nargs {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(fc.Args))
		}
		arr, elem, err := t.arrayArg(s, fc.Args[0], name)
		if err != nil {
			return expr{}, err
		}
		sql := "chr2_array_len(" + arr.sql + ", " + oidLit(elem) + ", '" + which + "')"
		if nargs == 2 {
			dim, err := t.exprAs(s, fc.Args[1], int4)
			if err != nil {
				return expr{}, err
			}
			if elem == pgval.Int2VectorOID || elem == pgval.OIDVectorOID {
				// A vector has one dimension: any other is absent (NULL).
				sql = "CASE WHEN " + dim.sql + " = 1 THEN " + sql + " END"
			} else {
				sql = "chr2_array_dim(" + arr.sql + ", " + oidLit(elem) + ", '" + which + "', " + dim.sql + ")"
			}
		}
		return expr{sql: sql, typ: int4, mod: -1, name: name, agg: arr.agg}, nil
	}
}

func fnArrayAgg(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function array_agg with %d arguments does not exist", len(fc.Args))
	}
	inner := &scope{parent: s.parent, items: s.items}
	arg, err := t.expr(inner, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	if arg.lit != nil || arg.null || arg.typ == pgval.Unspecified || arg.typ == pgval.UnknownOID {
		if arg, err = t.coerce(arg, text); err != nil {
			return expr{}, err
		}
	}
	ti, ok := pgval.Lookup(arg.typ)
	if isArrayType(arg.typ) {
		ti.Array = arg.typ // array_agg(anyarray) adds a dimension
	} else if !ok || ti.Array == 0 {
		return expr{}, pgerr.Unsupported("array_agg of type " + typeSQLName(arg.typ))
	}
	distinct := ""
	if fc.AggDistinct {
		return expr{}, pgerr.Unsupported("array_agg(DISTINCT …)")
	}
	filter, err := t.aggFilter(inner, fc.AggFilter)
	if err != nil {
		return expr{}, err
	}
	order, err := t.aggOrder(inner, fc.AggOrder)
	if err != nil {
		return expr{}, err
	}
	return expr{sql: "chr2_array_agg(" + distinct + oidLit(arg.typ) + ", " + arg.sql + order + ")" + filter,
		typ: ti.Array, mod: -1, name: "array_agg", agg: true}, nil
}

// arraySubLink translates ARRAY(subquery).
func (t *translator) arraySubLink(q query) (expr, error) {
	if len(q.cols) != 1 {
		return expr{}, pgerr.New(pgerr.SyntaxError, "subquery must return only one column")
	}
	c := q.cols[0]
	ti, ok := pgval.Lookup(c.Type)
	if isArrayType(c.Type) {
		ti.Array = c.Type // ARRAY(SELECT array) adds a dimension, as array_agg does
	} else if !ok || ti.Array == 0 {
		return expr{}, pgerr.Unsupported("ARRAY() of type " + typeSQLName(c.Type))
	}
	sql := "coalesce((SELECT chr2_array_agg(" + oidLit(c.Type) + ", " + quote(c.sqlName) + ") FROM (" + q.sql +
		")), '{}')"
	return expr{sql: sql, typ: ti.Array, mod: -1, name: "array"}, nil
}

// nestArrays is ARRAY[a, b, …] over arrays of type typ: a new first
// dimension (chr2_array_nest checks the sub-arrays' dimensions).
func nestArrays(es []expr, typ pgval.OID) expr {
	sql := "chr2_array_nest(" + oidLit(pgval.ArrayElem(typ))
	agg := false
	for _, e := range es {
		sql += ", " + e.sql
		agg = agg || e.agg
	}
	return expr{sql: sql + ")", typ: typ, mod: -1, name: "array", agg: agg}
}

// isNestedArrayExpr reports ARRAY[[…], […]]: every element is itself an
// array constructor without ARRAY.
func isNestedArrayExpr(a *pg.A_ArrayExpr) bool {
	for _, el := range a.Elements {
		if _, ok := el.Node.(*pg.Node_AArrayExpr); !ok {
			return false
		}
	}
	return true
}

// nestedArrayExpr translates ARRAY[[…], […]]: all leaf elements share one
// type (PostgreSQL resolves it over the whole constructor), then each
// level is built from the one below.
func (t *translator) nestedArrayExpr(s *scope, a *pg.A_ArrayExpr) (expr, error) {
	var leaves []expr
	var collect func(a *pg.A_ArrayExpr) error
	collect = func(a *pg.A_ArrayExpr) error {
		for _, el := range a.Elements {
			if sub, ok := el.Node.(*pg.Node_AArrayExpr); ok && isNestedArrayExpr(a) {
				if err := collect(sub.AArrayExpr); err != nil {
					return err
				}
				continue
			}
			e, err := t.expr(s, el)
			if err != nil {
				return err
			}
			leaves = append(leaves, e)
		}
		return nil
	}
	if err := collect(a); err != nil {
		return expr{}, err
	}
	leaves, typ, err := t.unifyAll(leaves)
	if err != nil {
		return expr{}, err
	}
	ti, ok := pgval.Lookup(typ)
	if !ok || ti.Array == 0 {
		return expr{}, pgerr.Unsupported("arrays of type " + typeSQLName(typ))
	}
	var build func(a *pg.A_ArrayExpr) expr
	build = func(a *pg.A_ArrayExpr) expr {
		if !isNestedArrayExpr(a) || len(a.Elements) == 0 {
			sql := "chr2_array(" + oidLit(typ)
			for range a.Elements {
				sql += ", " + leaves[0].sql
				leaves = leaves[1:]
			}
			return expr{sql: sql + ")", typ: ti.Array}
		}
		subs := make([]expr, len(a.Elements))
		for i, el := range a.Elements {
			subs[i] = build(el.Node.(*pg.Node_AArrayExpr).AArrayExpr)
		}
		return nestArrays(subs, ti.Array)
	}
	agg := false
	for _, l := range leaves {
		agg = agg || l.agg
	}
	out := build(a)
	out.agg = agg
	return out, nil
}

// emptyArrayCast is ARRAY[]::type[], the one way to write an empty array
// constructor (its element type cannot be inferred otherwise).
func emptyArrayCast(arg *pg.Node, target pgval.OID) (expr, bool) {
	a, ok := arg.Node.(*pg.Node_AArrayExpr)
	if !ok || len(a.AArrayExpr.Elements) != 0 || !isArrayType(target) {
		return expr{}, false
	}
	return expr{sql: "'{}'", typ: target, mod: -1, name: "array"}, true
}

// indirection translates subscripts: arr[i][j]… picks one element (NULL
// unless there is one subscript per dimension); as soon as one subscript
// is a slice (arr[lo:hi], arr[:hi], arr[lo:]) the result is an array and
// plain subscripts i mean 1:i, as in PostgreSQL.
func (t *translator) indirection(s *scope, ind *pg.A_Indirection) (expr, error) {
	e, err := t.expr(s, ind.Arg)
	if err != nil {
		return expr{}, err
	}
	var subs []*pg.A_Indices
	for _, n := range ind.Indirection {
		idx, ok := n.Node.(*pg.Node_AIndices)
		if !ok {
			return expr{}, pgerr.Unsupported("field selection")
		}
		subs = append(subs, idx.AIndices)
	}
	elem, ok := arrayElemOf(e.typ)
	if !ok {
		return expr{}, pgerr.New(pgerr.DatatypeMismatch,
			"cannot subscript type %s because it does not support subscripting", typeSQLName(e.typ))
	}
	if len(subs) > pgval.MaxDims {
		return expr{}, pgerr.New(pgerr.ProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)",
			len(subs), pgval.MaxDims)
	}
	slice := false
	for _, sub := range subs {
		slice = slice || sub.IsSlice
	}
	if slice && (elem == pgval.Int2VectorOID || elem == pgval.OIDVectorOID) {
		return expr{}, pgerr.Unsupported("slices of " + typeSQLName(e.typ))
	}
	sql, mask, agg := oidLit(elem), "", e.agg
	bound := func(n *pg.Node, def string) error {
		if n == nil {
			sql, mask = sql+", "+def, mask+"0"
			return nil
		}
		i, err := t.expr(s, n)
		if err == nil {
			i, err = t.coerce(i, int4)
		}
		sql, mask, agg = sql+", "+i.sql, mask+"1", agg || i.agg
		return err
	}
	for _, sub := range subs {
		if slice && !sub.IsSlice {
			sql, mask = sql+", 1", mask+"1"
		} else if slice {
			if err := bound(sub.Lidx, "NULL"); err != nil {
				return expr{}, err
			}
		}
		if err := bound(sub.Uidx, "NULL"); err != nil {
			return expr{}, err
		}
	}
	if slice {
		return expr{sql: "chr2_array_slice(" + e.sql + ", " + strings.Replace(sql, ", ", ", '"+mask+"', ", 1) + ")",
			typ: e.typ, mod: -1, name: e.name, agg: agg}, nil
	}
	return expr{sql: "chr2_array_get(" + e.sql + ", " + sql + ")", typ: vectorElem(elem), mod: -1, name: e.name,
		agg: agg}, nil
}

func isArrayType(typ pgval.OID) bool { return pgval.ArrayElem(typ) != 0 }

// arrayConcat is array || array, array || element and element || array.
func (t *translator) arrayConcat(l, r expr) (expr, error) {
	arrType := l.typ
	if !isArrayType(arrType) {
		arrType = r.typ
	} else if isArrayType(r.typ) {
		arrType = widerType(l.typ, r.typ) // int[] || numeric[] is numeric[]
	}
	elem := pgval.ArrayElem(arrType)
	var err error
	for _, side := range []*expr{&l, &r} {
		if side.lit != nil || side.null || side.typ == pgval.Unspecified || side.typ == pgval.UnknownOID {
			if *side, err = t.coerce(*side, arrType); err != nil {
				return expr{}, err
			}
		}
	}
	mode := func(e expr) (expr, string, error) {
		if isArrayType(e.typ) {
			c, err := t.coerce(e, arrType)
			return c, "'a'", err
		}
		c, err := t.coerce(e, elem)
		return c, "'e'", err
	}
	l, lm, err := mode(l)
	if err != nil {
		return expr{}, err
	}
	r, rm, err := mode(r)
	if err != nil {
		return expr{}, err
	}
	return expr{sql: "chr2_array_cat(" + l.sql + ", " + lm + ", " + r.sql + ", " + rm + ", " + oidLit(elem) + ")",
		typ: arrType, mod: -1, agg: l.agg || r.agg}, nil
}

// splitUnnest turns unnest(a, b, …) in FROM into ROWS FROM (unnest(a),
// unnest(b), …), which is how PostgreSQL defines it.
func splitUnnest(rf *pg.RangeFunction) *pg.RangeFunction {
	if len(rf.Functions) != 1 {
		return rf
	}
	list, ok := rf.Functions[0].Node.(*pg.Node_List)
	if !ok || len(list.List.Items) == 0 {
		return rf
	}
	fc := list.List.Items[0].GetFuncCall()
	if fc == nil || funcName(fc) != "unnest" || len(fc.Args) < 2 {
		return rf
	}
	out := proto.Clone(rf).(*pg.RangeFunction)
	out.Functions = nil
	for _, a := range fc.Args {
		one := proto.Clone(fc).(*pg.FuncCall)
		one.Args = []*pg.Node{a}
		out.Functions = append(out.Functions, &pg.Node{Node: &pg.Node_List{List: &pg.List{Items: []*pg.Node{
			{Node: &pg.Node_FuncCall{FuncCall: one}}}}}})
	}
	return out
}

// arraySubscripts is generate_subscripts over an array: the subscripts of
// dimension dim, descending when the third argument is true.
func (t *translator) arraySubscripts(s *scope, fc *pg.FuncCall, arr expr, elem pgval.OID, dim expr) (srfResult, error) {
	rev := "0"
	if len(fc.Args) == 3 {
		r, err := t.expr(s, fc.Args[2])
		if err == nil {
			r, err = t.coerce(r, pgval.BoolOID)
		}
		if err != nil {
			return srfResult{}, err
		}
		rev = r.sql
	}
	src := "chr2_array_subscripts(" + arr.sql + ", " + oidLit(elem) + ", " + dim.sql + ", " + rev + ")"
	return tvfItems(src, int4, "generate_subscripts"), nil
}

// arraySortKey makes comparisons, ORDER BY, GROUP BY and min/max of an
// array compare element by element (funcs/arraycmp.go), not as the text
// of its literal.
func arraySortKey(e expr) string {
	return e.sql + " COLLATE " + funcs.ArrayCollation(pgval.ArrayElem(e.typ))
}

// arrayTypmod applies the modifier of an element type (numeric(5,2)[],
// varchar(3)[], timestamp(0)[]) to every element; assign selects the
// assignment rules (varchar(n) refuses longer values instead of cutting).
func arrayTypmod(e expr, typ pgval.OID, mod int32, assign bool) expr {
	if mod < 0 || e.null {
		return e
	}
	switch elem := pgval.ArrayElem(typ); {
	case elem == pgval.NumericOID && mod >= 4, (elem == pgval.VarcharOID || elem == pgval.BPCharOID) && mod > 4,
		(elem == pgval.TimestampOID || elem == pgval.TimestamptzOID || elem == pgval.TimeOID) && mod < 6:
		flag := "0"
		if assign {
			flag = "1"
		}
		e.sql = "chr2_array_typmod(" + e.sql + ", " + oidLit(elem) + ", " + strconv.Itoa(int(mod)) + ", " + flag + ")"
		e.mod = mod
	}
	return e
}

// setArrayElement translates SET col[i][j]… = v (chr2_array_set). Several
// elements of one column may be assigned in one SET; each applies to the
// result of the previous one, as in PostgreSQL.
func (t *translator) setArrayElement(s *scope, rel *catalog.Relation, rt *pg.ResTarget, seen map[string]bool,
	elems map[string]int, parts *[]string) error {
	col, ok := rel.Column(rt.Name)
	if !ok {
		return pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", rt.Name, rel.Name).
			WithPosition(rt.Location + 1)
	}
	elem := pgval.ArrayElem(col.Type)
	if elem == 0 {
		return pgerr.New(pgerr.DatatypeMismatch, "cannot subscript type %s because it does not support subscripting",
			typeSQLName(col.Type)).WithPosition(rt.Location + 1)
	}
	if seen[col.Name] {
		return pgerr.New(pgerr.SyntaxError, "multiple assignments to same column %q", col.Name)
	}
	base := quote(col.Name)
	at, again := elems[col.Name]
	if again {
		base = strings.TrimPrefix((*parts)[at], quote(col.Name)+" = ")
	}
	v, err := t.expr(s, rt.Val)
	if err == nil {
		v, err = t.coerce(v, elem)
	}
	if err == nil {
		v, err = t.assignTypmodOf(v, elem, col.TypMod)
	}
	if err != nil {
		return err
	}
	sql := "chr2_array_set(" + base + ", " + oidLit(elem) + ", " + v.sql
	for _, n := range rt.Indirection {
		idx, ok := n.Node.(*pg.Node_AIndices)
		if !ok {
			return pgerr.Unsupported("UPDATE of a subfield")
		}
		if idx.AIndices.IsSlice {
			return pgerr.Unsupported("assignment to an array slice")
		}
		i, err := t.expr(s, idx.AIndices.Uidx)
		if err == nil {
			i, err = t.coerce(i, int4)
		}
		if err != nil {
			return err
		}
		sql += ", " + i.sql
	}
	part := quote(col.Name) + " = " + sql + ")"
	if again {
		(*parts)[at] = part
		return nil
	}
	elems[col.Name] = len(*parts)
	*parts = append(*parts, part)
	return nil
}
