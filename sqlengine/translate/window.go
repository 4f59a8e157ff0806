package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Window functions map onto SQLite's, which have PostgreSQL's names and
// semantics; named windows are inlined into each OVER clause.

// windowFuncs are the pure window functions and their result types (0:
// the type of the first argument).
var windowFuncs = map[string]pgval.OID{
	"row_number": pgval.Int8OID, "rank": pgval.Int8OID, "dense_rank": pgval.Int8OID, "ntile": pgval.Int4OID,
	"percent_rank": pgval.Float8OID, "cume_dist": pgval.Float8OID,
	"lag": 0, "lead": 0, "first_value": 0, "last_value": 0, "nth_value": 0,
}

// PostgreSQL's frame option bits (nodes/parsenodes.h).
const (
	frameNonDefault        = 0x00001
	frameRange             = 0x00002
	frameRows              = 0x00004
	frameGroups            = 0x00008
	frameBetween           = 0x00010
	frameStartUnboundedPre = 0x00020
	frameEndUnboundedFol   = 0x00100
	frameStartCurrentRow   = 0x00200
	frameEndCurrentRow     = 0x00400
	frameStartOffsetPre    = 0x00800
	frameEndOffsetPre      = 0x01000
	frameStartOffsetFol    = 0x02000
	frameEndOffsetFol      = 0x04000
	frameExcludeCurrentRow = 0x08000
	frameExcludeGroup      = 0x10000
	frameExcludeTies       = 0x20000
)

// windowCall translates f(…) OVER (…).
func (t *translator) windowCall(s *scope, fc *pg.FuncCall, name string, spec fnSpec, known bool) (expr, error) {
	if s == nil || !s.aggAllowed {
		return expr{}, pgerr.New(pgerr.WindowingError, "window functions are not allowed here").WithPosition(fc.Location + 1)
	}
	ret, isWindow := windowFuncs[name]
	var e expr
	var err error
	switch {
	case isWindow:
		e, err = t.windowFunction(s, fc, name, ret)
	case known && spec.agg:
		e, err = spec.special(t, s, fc)
		e.agg = false // a windowed aggregate does not group the query
	default:
		return expr{}, pgerr.New(pgerr.WrongObjectType, "OVER specified, but %s is not a window function nor an aggregate function", name)
	}
	if err != nil {
		return expr{}, err
	}
	over, err := t.overClause(s, fc.Over)
	if err != nil {
		return expr{}, err
	}
	e.sql += " OVER (" + over + ")"
	if e.name == "" {
		e.name = name
	}
	if e.mod == 0 {
		e.mod = -1
	}
	return e, nil
}

func (t *translator) windowFunction(s *scope, fc *pg.FuncCall, name string, ret pgval.OID) (expr, error) {
	inner := &scope{parent: s.parent, items: s.items, aggAllowed: true, windows: s.windows}
	args := make([]expr, 0, len(fc.Args))
	for _, a := range fc.Args {
		e, err := t.expr(inner, a)
		if err != nil {
			return expr{}, err
		}
		args = append(args, e)
	}
	var err error
	switch name {
	case "ntile", "nth_value":
		i := len(args) - 1
		if i >= 0 {
			if args[i], err = t.coerce(args[i], int4); err != nil {
				return expr{}, err
			}
		}
	case "lag", "lead":
		if len(args) >= 2 {
			if args[1], err = t.coerce(args[1], int4); err != nil {
				return expr{}, err
			}
		}
		if len(args) == 3 && len(args) > 0 {
			var u []expr
			if u, _, err = t.unifyAll([]expr{args[0], args[2]}); err != nil {
				return expr{}, err
			}
			args[0], args[2] = u[0], u[1]
		}
	}
	if ret == 0 {
		if len(args) == 0 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s() does not exist", name)
		}
		if args[0].lit != nil || args[0].null {
			if args[0], err = t.coerce(args[0], text); err != nil {
				return expr{}, err
			}
		}
		ret = args[0].typ
	}
	parts := make([]string, len(args))
	agg := false
	for i, a := range args {
		parts[i] = a.sql
		agg = agg || a.agg
	}
	return expr{sql: name + "(" + strings.Join(parts, ", ") + ")", typ: ret, mod: -1, name: name, agg: agg}, nil
}

// overClause renders a window definition, resolving named windows.
func (t *translator) overClause(s *scope, wd *pg.WindowDef) (string, error) {
	name := wd.Refname
	if name == "" && wd.Name != "" && len(wd.PartitionClause) == 0 && len(wd.OrderClause) == 0 && wd.FrameOptions&frameNonDefault == 0 {
		name = wd.Name // OVER w
	}
	var parts []string
	if name != "" {
		base, ok := s.windows[name]
		if !ok {
			return "", pgerr.New(pgerr.UndefinedObject, "window %q does not exist", name)
		}
		merged := &pg.WindowDef{PartitionClause: base.PartitionClause, OrderClause: base.OrderClause,
			FrameOptions: base.FrameOptions, StartOffset: base.StartOffset, EndOffset: base.EndOffset}
		if len(wd.OrderClause) > 0 {
			merged.OrderClause = wd.OrderClause
		}
		if wd.FrameOptions&frameNonDefault != 0 {
			merged.FrameOptions, merged.StartOffset, merged.EndOffset = wd.FrameOptions, wd.StartOffset, wd.EndOffset
		}
		wd = merged
	}
	if len(wd.PartitionClause) > 0 {
		items := make([]string, 0, len(wd.PartitionClause))
		for _, n := range wd.PartitionClause {
			e, err := t.expr(s, n)
			if err != nil {
				return "", err
			}
			items = append(items, t.sortKeySQL(e))
		}
		parts = append(parts, "PARTITION BY "+strings.Join(items, ", "))
	}
	keys := make([]expr, 0, len(wd.OrderClause))
	sorts := make([]*pg.SortBy, 0, len(wd.OrderClause))
	for _, n := range wd.OrderClause {
		sb := n.GetSortBy()
		e, err := t.expr(s, sb.Node)
		if err != nil {
			return "", err
		}
		keys, sorts = append(keys, e), append(sorts, sb)
	}
	rangeKind, err := rangeOffsetKind(wd, keys) // rangeframe.go
	if err != nil {
		return "", err
	}
	if len(keys) > 0 {
		items := make([]string, len(keys))
		for i, e := range keys {
			items[i] = t.sortKeySQL(e) + sortSuffix(sorts[i])
			if rangeKind == "time" {
				items[i] = "chr2_time_key(" + e.sql + ")" + sortSuffix(sorts[i])
			}
		}
		parts = append(parts, "ORDER BY "+strings.Join(items, ", "))
	}
	t.frameTimeOffsets = rangeKind == "time"
	frame, err := t.frameClause(s, wd)
	t.frameTimeOffsets = false
	if err != nil {
		return "", err
	}
	if frame != "" {
		parts = append(parts, frame)
	}
	return strings.Join(parts, " "), nil
}

func (t *translator) frameClause(s *scope, wd *pg.WindowDef) (string, error) {
	opts := wd.FrameOptions
	if opts&frameNonDefault == 0 {
		return "", nil
	}
	mode := "RANGE"
	switch {
	case opts&frameRows != 0:
		mode = "ROWS"
	case opts&frameGroups != 0:
		mode = "GROUPS"
	}
	start, err := t.frameBound(s, opts, true, wd.StartOffset)
	if err != nil {
		return "", err
	}
	end := "CURRENT ROW"
	if opts&frameBetween != 0 {
		if end, err = t.frameBound(s, opts, false, wd.EndOffset); err != nil {
			return "", err
		}
	}
	out := mode + " BETWEEN " + start + " AND " + end
	switch {
	case opts&frameExcludeCurrentRow != 0:
		out += " EXCLUDE CURRENT ROW"
	case opts&frameExcludeGroup != 0:
		out += " EXCLUDE GROUP"
	case opts&frameExcludeTies != 0:
		out += " EXCLUDE TIES"
	}
	return out, nil
}

func (t *translator) frameBound(s *scope, opts int32, start bool, offset *pg.Node) (string, error) {
	var unboundedPre, unboundedFol, current, offPre, offFol int32
	if start {
		unboundedPre, unboundedFol, current = frameStartUnboundedPre, 0x00080, frameStartCurrentRow
		offPre, offFol = frameStartOffsetPre, frameStartOffsetFol
	} else {
		unboundedPre, unboundedFol, current = 0x00040, frameEndUnboundedFol, frameEndCurrentRow
		offPre, offFol = frameEndOffsetPre, frameEndOffsetFol
	}
	switch {
	case opts&unboundedPre != 0:
		return "UNBOUNDED PRECEDING", nil
	case opts&unboundedFol != 0:
		return "UNBOUNDED FOLLOWING", nil
	case opts&current != 0:
		return "CURRENT ROW", nil
	case opts&(offPre|offFol) != 0 && t.frameTimeOffsets:
		sql, err := t.timeOffset(s, offset)
		if err != nil {
			return "", err
		}
		if opts&offPre != 0 {
			return sql + " PRECEDING", nil
		}
		return sql + " FOLLOWING", nil
	case opts&(offPre|offFol) != 0:
		e, err := t.expr(s, offset)
		if err != nil {
			return "", err
		}
		if e.lit != nil || e.param > 0 {
			if e, err = t.coerce(e, int8); err != nil {
				return "", err
			}
		}
		if opts&offPre != 0 {
			return e.sql + " PRECEDING", nil
		}
		return e.sql + " FOLLOWING", nil
	}
	return "", pgerr.Unsupported("this window frame")
}
