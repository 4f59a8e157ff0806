package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Stored expressions (CHECK constraints, index predicates) are kept as
// PostgreSQL text. These helpers walk their parse trees to find and rename
// column references, as PostgreSQL's dependency tracking would.

// walkTree calls fn for every message in the tree rooted at m.
func walkTree(m protoreflect.Message, fn func(proto.Message)) {
	fn(m.Interface())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkTree(l.Get(i).Message(), fn)
			}
		case fd.Message() != nil:
			walkTree(v.Message(), fn)
		}
		return true
	})
}

// columnRefNames lists the column names an expression text refers to.
func columnRefNames(text string) []string {
	n, err := parseExprText(text)
	if err != nil {
		return nil
	}
	var out []string
	walkTree(n.ProtoReflect(), func(m proto.Message) {
		if cr, ok := m.(*pg.ColumnRef); ok && len(cr.Fields) > 0 {
			out = append(out, strVal(cr.Fields[len(cr.Fields)-1]))
		}
	})
	return out
}

// refersTo reports whether an expression text refers to column name.
func refersTo(text, name string) bool {
	for _, c := range columnRefNames(text) {
		if c == name {
			return true
		}
	}
	return false
}

// renameColumnRefs rewrites references to column old as new.
func renameColumnRefs(text, old, new string) string {
	n, err := parseExprText(text)
	if err != nil {
		return text
	}
	changed := false
	walkTree(n.ProtoReflect(), func(m proto.Message) {
		cr, ok := m.(*pg.ColumnRef)
		if !ok || len(cr.Fields) == 0 {
			return
		}
		last := cr.Fields[len(cr.Fields)-1]
		if s, ok := last.Node.(*pg.Node_String_); ok && s.String_.Sval == old {
			s.String_.Sval = new
			changed = true
		}
	})
	if !changed {
		return text
	}
	return deparseExpr(n)
}
