package translate

import (
	"strconv"

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
		"array_position":  {special: fnArrayPosition},
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
	sep, err := t.expr(s, fc.Args[1])
	if err != nil {
		return expr{}, err
	}
	if sep, err = t.coerce(sep, text); err != nil {
		return expr{}, err
	}
	null := "NULL"
	if len(fc.Args) == 3 {
		n, err := t.expr(s, fc.Args[2])
		if err != nil {
			return expr{}, err
		}
		if n, err = t.coerce(n, text); err != nil {
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
			dim, err := t.expr(s, fc.Args[1])
			if err != nil {
				return expr{}, err
			}
			if dim, err = t.coerce(dim, int4); err != nil {
				return expr{}, err
			}
			// Arrays here have one dimension: any other is absent (NULL).
			sql = "CASE WHEN " + dim.sql + " = 1 THEN " + sql + " END"
		}
		return expr{sql: sql, typ: int4, mod: -1, name: name, agg: arr.agg}, nil
	}
}

func fnArrayPosition(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function array_position with %d arguments does not exist", len(fc.Args))
	}
	arr, elem, err := t.arrayArg(s, fc.Args[0], "array_position")
	if err != nil {
		return expr{}, err
	}
	v, err := t.expr(s, fc.Args[1])
	if err != nil {
		return expr{}, err
	}
	if v, err = t.coerce(v, vectorElem(elem)); err != nil {
		return expr{}, err
	}
	return expr{sql: "chr2_array_position(" + arr.sql + ", " + oidLit(elem) + ", " + v.sql + ")", typ: int4, mod: -1,
		name: "array_position", agg: arr.agg || v.agg}, nil
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
	if !ok || ti.Array == 0 {
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
	if !ok || ti.Array == 0 {
		return expr{}, pgerr.Unsupported("ARRAY() of type " + typeSQLName(c.Type))
	}
	sql := "coalesce((SELECT chr2_array_agg(" + oidLit(c.Type) + ", " + quote(c.sqlName) + ") FROM (" + q.sql +
		")), '{}')"
	return expr{sql: sql, typ: ti.Array, mod: -1, name: "array"}, nil
}

// indirection translates arr[i] (one subscript, no slices).
func (t *translator) indirection(s *scope, ind *pg.A_Indirection) (expr, error) {
	e, err := t.expr(s, ind.Arg)
	if err != nil {
		return expr{}, err
	}
	for _, n := range ind.Indirection {
		idx, ok := n.Node.(*pg.Node_AIndices)
		if !ok {
			return expr{}, pgerr.Unsupported("field selection")
		}
		if idx.AIndices.IsSlice || idx.AIndices.Uidx == nil {
			return expr{}, pgerr.Unsupported("array slices")
		}
		elem, ok := arrayElemOf(e.typ)
		if !ok {
			return expr{}, pgerr.New(pgerr.DatatypeMismatch,
				"cannot subscript type %s because it does not support subscripting", typeSQLName(e.typ))
		}
		i, err := t.expr(s, idx.AIndices.Uidx)
		if err != nil {
			return expr{}, err
		}
		if i, err = t.coerce(i, int4); err != nil {
			return expr{}, err
		}
		e = expr{sql: "chr2_array_get(" + e.sql + ", " + strconv.Itoa(int(elem)) + ", " + i.sql + ")",
			typ: vectorElem(elem), mod: -1, name: e.name, agg: e.agg || i.agg}
	}
	return e, nil
}

func isArrayType(typ pgval.OID) bool { return pgval.ArrayElem(typ) != 0 }

// arrayConcat is array || array, array || element and element || array.
func (t *translator) arrayConcat(l, r expr) (expr, error) {
	arrType := l.typ
	if !isArrayType(arrType) {
		arrType = r.typ
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
		if e.typ == arrType {
			return e, "'a'", nil
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
