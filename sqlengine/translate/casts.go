package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/funcs"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Casts: explicit (::, CAST) and implicit conversions between types,
// constant folding of number casts, and type modifiers.

// implicitlyCompatible reports whether PostgreSQL would coerce from → to
// without an explicit cast (in assignment context).
func implicitlyCompatible(from, to pgval.OID) bool {
	if sqltype.IsNumeric(from) && sqltype.IsNumeric(to) {
		return true
	}
	if sqltype.IsText(from) && sqltype.IsText(to) {
		return true
	}
	switch {
	case from == pgval.TimestamptzOID && (to == pgval.TimestampOID || to == pgval.DateOID):
		return true
	case from == pgval.TimestampOID && (to == pgval.TimestamptzOID || to == pgval.DateOID):
		return true
	case from == pgval.DateOID && (to == pgval.TimestampOID || to == pgval.TimestamptzOID):
		return true
	case (from == pgval.JSONOID || from == pgval.JSONBOID) && (to == pgval.JSONOID || to == pgval.JSONBOID):
		return true
	case (isRegType(from) || sqltype.IsInteger(from)) && isRegType(to), isRegType(from) && sqltype.IsInteger(to):
		return true
	case to == pgval.TextOID || to == pgval.VarcharOID:
		// Assignment to a text column accepts any type's text form.
		return true
	case isArrayType(from) && isArrayType(to):
		// Arrays convert as their elements do (array_coerce).
		return implicitlyCompatible(pgval.ArrayElem(from), pgval.ArrayElem(to))
	}
	return false
}

// needsConversion reports whether the storage forms of from and to differ.
func needsConversion(from, to pgval.OID) bool {
	if isRegType(from) && isRegType(to) || isRegType(from) && sqltype.IsInteger(to) || sqltype.IsInteger(from) && isRegType(to) {
		return false
	}
	if sqltype.IsInteger(from) && sqltype.IsInteger(to) {
		return from > to && to != pgval.Int8OID // narrowing needs a range check
	}
	if sqltype.IsText(from) && sqltype.IsText(to) {
		return false
	}
	if (from == pgval.JSONOID || from == pgval.JSONBOID) && to == pgval.JSONOID {
		return false
	}
	return true
}

// castExpr converts e to target explicitly (CAST / ::).
func (t *translator) castExpr(e expr, target pgval.OID, mod int32) (expr, error) {
	if ty := t.domainType(target); ty != nil {
		return t.castToDomain(e, ty) // domains.go
	}
	if ty := t.enumType(target); ty != nil {
		return t.coerceEnum(e, ty, true) // enums.go
	}
	if ty := t.enumType(e.typ); ty != nil {
		out, err := t.castFromEnum(e, ty, target)
		if err != nil {
			return expr{}, err
		}
		return t.applyTypmod(out, target, mod)
	}
	if e.lit != nil || e.null || (e.param > 0 && (e.typ == pgval.Unspecified || e.typ == pgval.UnknownOID)) {
		out, err := t.coerce(e, target)
		if err != nil {
			return expr{}, err
		}
		out.mod = mod
		return t.applyTypmod(out, target, mod)
	}
	if e.typ == target {
		return t.applyTypmod(e, target, mod)
	}
	if folded, ok := foldNumberCast(e, target); ok {
		folded.name = e.name
		return t.applyTypmod(folded, target, mod)
	}
	out := expr{typ: target, mod: mod, name: e.name, agg: e.agg}
	switch {
	case sqltype.IsInteger(e.typ) && (target == pgval.Float8OID || target == pgval.Float4OID):
		out.sql = "CAST(" + e.sql + " AS REAL)"
	case sqltype.IsInteger(e.typ) && target == pgval.NumericOID:
		out.sql = "chr2_num(" + e.sql + ")"
	case e.typ == pgval.BoolOID && sqltype.IsInteger(target):
		out.sql = e.sql
	case isRegOutput(e.typ) && sqltype.IsText(target):
		out.sql = t.regOutput(e.sql, e.typ)
	case (isRegType(e.typ) || sqltype.IsInteger(e.typ)) && isRegType(target):
		out.sql = e.sql
	case sqltype.IsText(e.typ) && sqltype.IsText(target):
		out.sql = e.sql
	default:
		out.sql = "chr2_cast(" + e.sql + ", " + strconv.Itoa(int(e.typ)) + ", " + strconv.Itoa(int(target)) + ")"
	}
	return t.applyTypmod(out, target, mod)
}

// foldNumberCast converts numeric and integer constants at translation
// time.
func foldNumberCast(e expr, target pgval.OID) (expr, bool) {
	if e.numConst == "" && !sqltype.IsInteger(e.typ) {
		return expr{}, false
	}
	src := e.numConst
	if src == "" {
		if _, err := strconv.ParseInt(e.sql, 10, 64); err != nil {
			return expr{}, false
		}
		src = e.sql
	}
	if target == pgval.NumericOID {
		return numericConst(src), true
	}
	if e.numConst == "" {
		return expr{}, false
	}
	v, err := funcs.Cast(src, pgval.NumericOID, target)
	if err != nil {
		return expr{}, false // the cast fails when the statement runs
	}
	out := typed(sqltype.Literal(v), target, "")
	return out, true
}

// applyTypmod enforces a type modifier on an explicit cast: varchar(n)
// and char(n) truncate, numeric(p, s) rounds (or overflows).
func (t *translator) applyTypmod(e expr, target pgval.OID, mod int32) (expr, error) {
	if mod > 4 && (target == pgval.VarcharOID || target == pgval.BPCharOID) {
		e.sql = "substr(" + e.sql + ", 1, " + strconv.Itoa(int(mod-4)) + ")"
		if target == pgval.BPCharOID {
			e.sql = "rtrim(" + e.sql + ", ' ')"
		}
		e.mod = mod
	}
	if target == pgval.NumericOID {
		return t.applyNumericTypmod(e, mod)
	}
	if isArrayType(target) {
		return arrayTypmod(e, target, mod, false), nil // arrays.go
	}
	return timeTypmod(e, target, mod), nil
}

// timeTypmod rounds a timestamp, timestamptz or time value to the
// precision p of timestamp(p) and the like.
func timeTypmod(e expr, target pgval.OID, mod int32) expr {
	if mod < 0 || mod >= 6 || e.null {
		return e
	}
	switch target {
	case pgval.TimestampOID, pgval.TimestamptzOID, pgval.TimeOID:
		e.sql = "chr2_time_round(" + e.sql + ", " + strconv.Itoa(int(mod)) + ", " + oidLit(target) + ")"
		e.mod = mod
	}
	return e
}

func (t *translator) typeCast(s *scope, tc *pg.TypeCast) (expr, error) {
	target, mod, err := t.resolveTypeName(tc.TypeName)
	if err != nil {
		return expr{}, err
	}
	if empty, ok := emptyArrayCast(tc.Arg, target); ok {
		return empty, nil // arrays.go
	}
	e, err := t.expr(s, tc.Arg)
	if err != nil {
		return expr{}, err
	}
	if target == pgval.RegclassOID && e.lit != nil {
		return t.regclassLiteral(*e.lit)
	}
	if target == pgval.RegtypeOID && e.lit != nil {
		return t.regtypeLiteral(*e.lit) // enums.go
	}
	out, err := t.castExpr(e, target, mod)
	if err != nil {
		if pe, ok := err.(*pgerr.Error); ok && pe.Position == 0 && e.lit != nil {
			pe.Position = literalLocation(tc.Arg) + 1
		}
		return expr{}, err
	}
	// As PostgreSQL's FigureColname: a cast keeps the name of a column or
	// function it converts, else takes its type's name (an outer cast's).
	if e.col == nil && (e.name == "?column?" || e.name == "" || e.castName) {
		if ti, ok := pgval.Lookup(target); ok {
			out.name, out.castName = ti.Name, true
			if et, ok := pgval.Lookup(pgval.ArrayElem(target)); ok {
				out.name = et.Name // x::int[] is named after int4, as FigureColname does
			}
		} else if ty, ok := t.cat.Type(uint32(target)); ok {
			out.name, out.castName = ty.Name, true
		}
	} else {
		out.name = e.name
	}
	return out, nil
}

// literalLocation is the position of a constant in the statement.
func literalLocation(n *pg.Node) int32 {
	if c, ok := n.Node.(*pg.Node_AConst); ok {
		return c.AConst.Location
	}
	return -1
}

// regclassLiteral resolves 'name'::regclass to the relation's OID; a
// numeric string is an OID already.
func (t *translator) regclassLiteral(name string) (expr, error) {
	if n, err := strconv.ParseUint(strings.TrimSpace(name), 10, 32); err == nil {
		return typed(strconv.FormatUint(n, 10), pgval.RegclassOID, "regclass"), nil
	}
	rel, err := t.relationByText(name)
	if err != nil {
		return expr{}, err
	}
	return typed(strconv.FormatUint(uint64(rel.OID), 10), pgval.RegclassOID, "regclass"), nil
}
