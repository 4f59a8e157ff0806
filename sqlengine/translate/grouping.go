package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// Grouped queries. SQLite accepts a bare column in an aggregate query and
// returns a value from an arbitrary row of the group; PostgreSQL refuses
// it (42803). checkGrouping applies PostgreSQL's rule before translation:
// in a query with GROUP BY, HAVING or an aggregate, every column of this
// query level that the select list, HAVING or ORDER BY uses outside an
// aggregate's arguments must be grouped — named by GROUP BY, inside an
// expression GROUP BY names, or of a table whose primary key is grouped
// (functional dependency). Subqueries are not inspected.

// groupedColumn identifies a FROM item's column.
type groupedColumn struct {
	item *rangeItem
	name string
}

type groupCheck struct {
	t        *translator
	s        *scope
	exprs    []*pg.Node // GROUP BY expressions, locations cleared
	cols     map[groupedColumn]bool
	outNames map[string]bool // output column names ORDER BY may use
}

// checkGrouping reports an ungrouped column of a grouped query, if any.
func (t *translator) checkGrouping(s *scope, sel *pg.SelectStmt) error {
	grouped := len(sel.GroupClause) > 0 || sel.HavingClause != nil
	if !grouped {
		for _, n := range sel.TargetList {
			grouped = grouped || hasAggregate(n.GetResTarget().Val)
		}
		for _, n := range sel.SortClause {
			grouped = grouped || hasAggregate(n.GetSortBy().Node)
		}
	}
	if !grouped {
		return nil
	}
	g := &groupCheck{t: t, s: s, cols: map[groupedColumn]bool{}, outNames: map[string]bool{}}
	for _, n := range sel.GroupClause {
		n = g.groupTarget(n, sel.TargetList)
		g.exprs = append(g.exprs, withoutLocations(n))
		if cr := n.GetColumnRef(); cr != nil {
			if it, c, ok := g.resolve(cr); ok {
				g.cols[groupedColumn{it, c}] = true
			}
		}
	}
	for _, n := range sel.TargetList {
		rt := n.GetResTarget()
		if err := g.check(rt.Val); err != nil {
			return err
		}
		if rt.Name != "" {
			g.outNames[rt.Name] = true
		}
	}
	if err := g.check(sel.HavingClause); err != nil {
		return err
	}
	for _, n := range sel.SortClause {
		key := n.GetSortBy().Node
		if cr := key.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && g.outNames[strVal(cr.Fields[0])] {
			continue
		}
		if key.GetAConst() != nil {
			continue
		}
		if err := g.check(key); err != nil {
			return err
		}
	}
	return nil
}

// groupTarget resolves a GROUP BY position or output name to the select
// list expression it stands for (an input column name wins over an
// output name, as in PostgreSQL).
func (g *groupCheck) groupTarget(n *pg.Node, targets []*pg.Node) *pg.Node {
	if c := n.GetAConst(); c != nil {
		if iv, ok := c.Val.(*pg.A_Const_Ival); ok && iv.Ival.Ival >= 1 && int(iv.Ival.Ival) <= len(targets) {
			return targets[iv.Ival.Ival-1].GetResTarget().Val
		}
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
		if _, _, ok := g.resolve(cr); !ok {
			name := strVal(cr.Fields[0])
			for _, t := range targets {
				if rt := t.GetResTarget(); rt.Name == name {
					return rt.Val
				}
			}
		}
	}
	return n
}

// resolve finds a column reference among this level's FROM items.
func (g *groupCheck) resolve(cr *pg.ColumnRef) (*rangeItem, string, bool) {
	fields := make([]string, 0, len(cr.Fields))
	for _, f := range cr.Fields {
		if _, star := f.Node.(*pg.Node_AStar); star {
			return nil, "", false
		}
		fields = append(fields, strVal(f))
	}
	qual := ""
	if len(fields) >= 2 {
		qual = fields[len(fields)-2]
	}
	it, c, found, err := g.s.find(qual, fields[len(fields)-1], cr.Location)
	if err != nil || !found {
		return nil, "", false
	}
	return it, c.name, true
}

// check walks an expression and fails on the first ungrouped column.
func (g *groupCheck) check(n *pg.Node) error {
	if n == nil {
		return nil
	}
	var failure error
	var walk func(m protoreflect.Message) bool
	walk = func(m protoreflect.Message) bool {
		switch x := m.Interface().(type) {
		case *pg.Node:
			if g.isGroupExpr(x) {
				return true
			}
		case *pg.FuncCall:
			if x.Over == nil && isAggregateName(funcName(x)) {
				return true
			}
		case *pg.SubLink:
			return true
		case *pg.ColumnRef:
			if it, col, ok := g.resolve(x); ok && !g.cols[groupedColumn{it, col}] && !g.keyGrouped(it) {
				failure = pgerr.New(pgerr.GroupingError,
					"column \"%s.%s\" must appear in the GROUP BY clause or be used in an aggregate function", it.name, col).
					WithPosition(x.Location + 1)
				return false
			}
			return true
		}
		ok := true
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsMap():
			case fd.IsList() && fd.Message() != nil:
				l := v.List()
				for i := 0; i < l.Len() && ok; i++ {
					ok = walk(l.Get(i).Message())
				}
			case fd.Message() != nil:
				ok = walk(v.Message())
			}
			return ok
		})
		return ok
	}
	walk(n.ProtoReflect())
	return failure
}

func (g *groupCheck) isGroupExpr(n *pg.Node) bool {
	if len(g.exprs) == 0 || n.Node == nil {
		return false
	}
	if _, isConst := n.Node.(*pg.Node_AConst); isConst {
		return false
	}
	bare := withoutLocations(n)
	for _, e := range g.exprs {
		if proto.Equal(bare, e) {
			return true
		}
	}
	return false
}

// keyGrouped reports whether every primary key column of a table item is
// grouped, which makes its other columns functionally dependent.
func (g *groupCheck) keyGrouped(it *rangeItem) bool {
	if it.rel == nil || it.rel.Kind != catalog.KindTable {
		return false
	}
	for _, idx := range it.rel.Indexes {
		if !idx.Primary {
			continue
		}
		for _, num := range idx.Columns {
			c, ok := it.rel.ColumnByNum(num)
			if !ok || !g.cols[groupedColumn{it, c.Name}] {
				return false
			}
		}
		return true
	}
	return false
}

// hasAggregate reports whether an expression calls an aggregate outside a
// subquery (one inside aggregates the subquery, not this query).
func hasAggregate(n *pg.Node) bool {
	if n == nil {
		return false
	}
	found := false
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		switch x := m.Interface().(type) {
		case *pg.SubLink:
			return
		case *pg.FuncCall:
			if x.Over == nil && isAggregateName(funcName(x)) {
				found = true
				return
			}
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsMap():
			case fd.IsList() && fd.Message() != nil:
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message())
				}
			case fd.Message() != nil:
				walk(v.Message())
			}
			return !found
		})
	}
	walk(n.ProtoReflect())
	return found
}

func isAggregateName(name string) bool {
	spec, ok := functions[name]
	return ok && spec.agg
}

// withoutLocations is a copy of n with every location field zeroed, for
// comparing expressions written at different places.
func withoutLocations(n *pg.Node) *pg.Node {
	c := proto.Clone(n).(*pg.Node)
	var clear func(m protoreflect.Message)
	clear = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Name() == "location" && fd.Kind() == protoreflect.Int32Kind:
				m.Clear(fd)
			case fd.IsMap():
			case fd.IsList() && fd.Message() != nil:
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					clear(l.Get(i).Message())
				}
			case fd.Message() != nil:
				clear(v.Message())
			}
			return true
		})
	}
	clear(c.ProtoReflect())
	return c
}
