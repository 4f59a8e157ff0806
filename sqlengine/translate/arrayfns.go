package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Array functions over arrays of any dimension (chr2_array_* in
// funcs/arraymd.go and funcs/arrayops.go).

func arrayFunctionTableMD() map[string]fnSpec {
	return map[string]fnSpec{
		"array_append":    {special: fnArrayCat("array_append", "ae")},
		"array_prepend":   {special: fnArrayCat("array_prepend", "ea")},
		"array_cat":       {special: fnArrayCat("array_cat", "aa")},
		"array_remove":    {special: fnArrayReplace("remove", 2)},
		"array_replace":   {special: fnArrayReplace("replace", 3)},
		"array_positions": {special: fnArraySearch("array_positions", "chr2_array_positions", 2, pgval.Int4ArrayOID)},
		"array_position":  {special: fnArraySearch("array_position", "chr2_array_position", 3, int4)},
		"array_dims":      {special: fnArrayShape("dims", text)},
		"array_ndims":     {special: fnArrayShape("ndims", int4)},
		"array_to_json":   {special: fnArrayToJSON},
	}
}

func argCount(name string, fc *pg.FuncCall, lo, hi int) error {
	if len(fc.Args) < lo || len(fc.Args) > hi {
		return pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(fc.Args))
	}
	return nil
}

// fnArrayCat is array_append ("ae"), array_prepend ("ea") and array_cat
// ("aa"): the array argument's type decides the element type, as for ||.
func fnArrayCat(name, shape string) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if err := argCount(name, fc, 2, 2); err != nil {
			return expr{}, err
		}
		var es [2]expr
		arrType := pgval.OID(0)
		for i, n := range fc.Args {
			e, err := t.expr(s, n)
			if err != nil {
				return expr{}, err
			}
			es[i] = e
			if shape[i] == 'a' && isArrayType(e.typ) && arrType == 0 {
				arrType = e.typ
			}
			if shape[i] == 'e' && e.lit == nil && !e.null && e.typ != pgval.Unspecified && e.typ != pgval.UnknownOID {
				if ti, ok := pgval.Lookup(e.typ); ok && ti.Array != 0 && arrType == 0 {
					arrType = ti.Array
				}
			}
		}
		if arrType == 0 {
			arrType = pgval.TextArrayOID
		}
		modes := [2]string{}
		for i := range es {
			target := arrType
			if modes[i] = "'a'"; shape[i] == 'e' {
				target, modes[i] = pgval.ArrayElem(arrType), "'e'"
			}
			var err error
			if es[i], err = t.coerce(es[i], target); err != nil {
				return expr{}, err
			}
		}
		return expr{sql: "chr2_array_cat(" + es[0].sql + ", " + modes[0] + ", " + es[1].sql + ", " + modes[1] + ", " +
			oidLit(pgval.ArrayElem(arrType)) + ")", typ: arrType, mod: -1, name: name, agg: es[0].agg || es[1].agg}, nil
	}
}

// arrayAndElems translates an array argument and further arguments of its
// element type.
func (t *translator) arrayAndElems(s *scope, name string, args []*pg.Node) (expr, pgval.OID, []expr, error) {
	arr, elem, err := t.arrayArg(s, args[0], name)
	if err != nil {
		return expr{}, 0, nil, err
	}
	out := make([]expr, 0, len(args)-1)
	for _, n := range args[1:] {
		e, err := t.expr(s, n)
		if err == nil {
			e, err = t.coerce(e, vectorElem(elem))
		}
		if err != nil {
			return expr{}, 0, nil, err
		}
		arr.agg = arr.agg || e.agg
		out = append(out, e)
	}
	return arr, elem, out, nil
}

// fnArrayReplace is array_remove(arr, v) and array_replace(arr, v, w).
func fnArrayReplace(mode string, nargs int) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		name := "array_" + mode
		if err := argCount(name, fc, nargs, nargs); err != nil {
			return expr{}, err
		}
		arr, elem, es, err := t.arrayAndElems(s, name, fc.Args)
		if err != nil {
			return expr{}, err
		}
		repl := "NULL"
		if len(es) == 2 {
			repl = es[1].sql
		}
		return expr{sql: "chr2_array_replace(" + arr.sql + ", " + oidLit(elem) + ", '" + mode + "', " + es[0].sql + ", " +
			repl + ")", typ: arr.typ, mod: -1, name: name, agg: arr.agg}, nil
	}
}

// fnArraySearch is array_position(arr, v [, start]) and
// array_positions(arr, v).
func fnArraySearch(name, sqlName string, maxArgs int, ret pgval.OID) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if err := argCount(name, fc, 2, maxArgs); err != nil {
			return expr{}, err
		}
		arr, elem, es, err := t.arrayAndElems(s, name, fc.Args[:2])
		if err != nil {
			return expr{}, err
		}
		sql := sqlName + "(" + arr.sql + ", " + oidLit(elem) + ", " + es[0].sql
		if len(fc.Args) == 3 {
			start, err := t.expr(s, fc.Args[2])
			if err == nil {
				start, err = t.coerce(start, int4)
			}
			if err != nil {
				return expr{}, err
			}
			sql += ", " + start.sql
		}
		return expr{sql: sql + ")", typ: ret, mod: -1, name: name, agg: arr.agg}, nil
	}
}

// fnArrayShape is array_dims and array_ndims.
func fnArrayShape(which string, ret pgval.OID) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		name := "array_" + which
		if err := argCount(name, fc, 1, 1); err != nil {
			return expr{}, err
		}
		arr, elem, err := t.arrayArg(s, fc.Args[0], name)
		if err != nil {
			return expr{}, err
		}
		if elem == pgval.Int2VectorOID || elem == pgval.OIDVectorOID {
			return expr{}, pgerr.Unsupported(name + " of " + typeSQLName(arr.typ))
		}
		return expr{sql: "chr2_array_dim(" + arr.sql + ", " + oidLit(elem) + ", '" + which + "', NULL)", typ: ret, mod: -1,
			name: name, agg: arr.agg}, nil
	}
}

// arrayContainsOp is @>, <@ and && between arrays of one type.
func (t *translator) arrayContainsOp(op string, l, r expr) (expr, error) {
	arrType := l.typ
	if !isArrayType(arrType) {
		arrType = r.typ
	}
	var err error
	if l, err = t.coerce(l, arrType); err != nil {
		return expr{}, err
	}
	if r, err = t.coerce(r, arrType); err != nil {
		return expr{}, err
	}
	mode := "'contains'"
	switch op {
	case "<@":
		l, r = r, l
	case "&&":
		mode = "'overlaps'"
	}
	return expr{sql: "chr2_array_contains(" + l.sql + ", " + r.sql + ", " + oidLit(pgval.ArrayElem(arrType)) + ", " +
		mode + ")", typ: pgval.BoolOID, mod: -1, agg: l.agg || r.agg}, nil
}

// fnArrayToJSON is array_to_json(arr): to_json of an array argument.
func fnArrayToJSON(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) == 2 {
		return expr{}, pgerr.Unsupported("array_to_json with pretty_bool")
	}
	if err := argCount("array_to_json", fc, 1, 1); err != nil {
		return expr{}, err
	}
	if _, _, err := t.arrayArg(s, fc.Args[0], "array_to_json"); err != nil {
		return expr{}, err
	}
	return fnToJSON(false)(t, s, fc)
}
