package translate

import (
	"slices"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// The snapshot rules of data-modifying WITH queries (see cte_dml.go): what
// each part of such a statement reads and writes is recorded while it is
// translated (t.access), then checkAccess refuses the statements whose
// parts, run one after another, could see each other's changes.

// noteRead records that the part being translated reads rel (a view: the
// tables it reads).
func (t *translator) noteRead(rel *catalog.Relation) {
	if t.access != nil {
		t.viewReads(t.access, rel, 0)
	}
}

func (t *translator) viewReads(acc *access, rel *catalog.Relation, depth int) {
	acc.reads[rel.OID] = true
	if rel.Kind != catalog.KindView || rel.ViewSQL != "" {
		return
	}
	tree, err := pg.Parse(rel.Definition)
	if err != nil || depth > 32 {
		acc.anyRead = true
		return
	}
	path := append([]string{"pg_catalog"}, t.opts.SearchPath...)
	for _, s := range tree.Stmts {
		walkTree(s.ProtoReflect(), func(m proto.Message) {
			rv, ok := m.(*pg.RangeVar)
			if !ok {
				return
			}
			if r, found := t.lookupRel(rv.Schemaname, rv.Relname, path); found {
				t.viewReads(acc, r, depth+1)
			} else {
				acc.anyRead = true // a WITH query of the view, or unknown
			}
		})
	}
}

// noteWrite records that the part being translated modifies rel.
func (t *translator) noteWrite(rel *catalog.Relation, verb string) {
	if t.access == nil {
		return
	}
	op := map[string]byte{"insert into": writeInsert, "update": writeUpdate, "delete from": writeDelete}[verb]
	t.access.writes[rel.OID] |= op
}

// noteCTE records a reference to WITH query c; a data-modifying one must
// have RETURNING to be read.
func (t *translator) noteCTE(c *cte, rv *pg.RangeVar) error {
	if c.noReturning {
		return pgerr.New(pgerr.FeatureNotSupported, "WITH query %q does not have a RETURNING clause", rv.Relname).
			WithPosition(rv.Location + 1)
	}
	if t.access != nil {
		t.access.ctes[c] = true
	}
	return nil
}

// checkAccess refuses a statement whose parts could see each other's
// changes when run in order: the stored parts in order, then the main
// statement with the WITH queries that stay inline in it.
func (t *translator) checkAccess(parts []*withPart, outer *access) error {
	var units []*access
	for _, p := range parts {
		if p.dml != nil || p.store {
			units = append(units, p.acc)
		} else {
			outer = mergeAccess(outer, p.acc)
		}
	}
	units = append(units, outer)
	for _, u := range units {
		t.cascades(u)
	}
	for i, a := range units {
		for _, b := range units[i+1:] {
			if err := t.conflict(a, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func mergeAccess(a, b *access) *access {
	out := newAccess()
	out.seqs = map[uint32]bool{}
	for _, x := range []*access{a, b} {
		for oid := range x.reads {
			out.reads[oid] = true
		}
		for oid, op := range x.writes {
			out.writes[oid] |= op
		}
		for oid := range x.seqs {
			out.seqs[oid] = true
		}
		out.anyRead = out.anyRead || x.anyRead
	}
	return out
}

// cascades records the tables the ON UPDATE/ON DELETE actions of foreign
// keys modify when a's tables are updated or deleted from (a.casc).
func (t *translator) cascades(a *access) {
	a.casc = map[uint32]byte{}
	rels := t.cat.Relations()
	for changed := true; changed; {
		changed = false
		for _, r := range rels {
			for _, con := range r.Constraint {
				if con.Type != catalog.ConForeign || len(con.FKActions) != 2 {
					continue
				}
				op := a.writes[con.RefTable] | a.casc[con.RefTable]
				add := byte(0)
				if op&writeUpdate != 0 && isFKWrite(con.FKActions[0]) {
					add |= writeUpdate
				}
				if op&writeDelete != 0 && con.FKActions[1] == 'c' {
					add |= writeDelete
				} else if op&writeDelete != 0 && isFKWrite(con.FKActions[1]) {
					add |= writeUpdate
				}
				if a.casc[r.OID]|add != a.casc[r.OID] {
					a.casc[r.OID] |= add
					changed = true
				}
			}
		}
	}
}

// isFKWrite reports whether a foreign key action modifies the referencing
// rows (CASCADE, SET NULL, SET DEFAULT).
func isFKWrite(action byte) bool { return action == 'c' || action == 'n' || action == 'd' }

// conflict checks two parts, a running before b. b modifying what a read is
// fine: a ran before b changed it; so is a foreign key action of b on what a
// modified: PostgreSQL runs those at the end of the statement, on the
// latest rows.
func (t *translator) conflict(a, b *access) error {
	for _, oid := range writtenOIDs(a) {
		if b.reads[oid] || b.writes[oid] != 0 || b.anyRead || a.casc[oid] != 0 && b.casc[oid] != 0 {
			return pgerr.Unsupported("a data-modifying WITH query on table " + t.relName(oid) +
				" in a statement that also reads or modifies it elsewhere (all parts would have to see one snapshot)")
		}
	}
	for oid := range a.seqs {
		if b.seqs[oid] {
			return pgerr.Unsupported("two parts of a statement with a data-modifying WITH query drawing from sequence " + t.relName(oid))
		}
	}
	if oid, ok := t.fkOrder(a, b); ok {
		return pgerr.Unsupported("a data-modifying WITH query whose foreign key checks on table " + t.relName(oid) +
			" depend on a later part of the statement")
	}
	return nil
}

// writtenOIDs lists the tables a modifies, directly or through foreign key
// actions, in OID order (the error names the first).
func writtenOIDs(a *access) []uint32 {
	var out []uint32
	for oid := range a.writes {
		out = append(out, oid)
	}
	for oid := range a.casc {
		if a.writes[oid] == 0 {
			out = append(out, oid)
		}
	}
	slices.Sort(out)
	return out
}

// fkOrder finds a foreign key check of a that b could change the outcome
// of: PostgreSQL checks them at the end of the whole statement, SQLite at
// the end of each part. a inserting or updating a row of a table whose
// foreign key references a table b inserts into or updates; a updating or
// deleting a referenced row while b updates or deletes referencing rows.
func (t *translator) fkOrder(a, b *access) (uint32, bool) {
	for _, r := range t.cat.Relations() {
		for _, con := range r.Constraint {
			if con.Type != catalog.ConForeign {
				continue
			}
			child, parent := r.OID, con.RefTable
			aw := func(oid uint32) byte { return a.writes[oid] | a.casc[oid] }
			bw := func(oid uint32) byte { return b.writes[oid] | b.casc[oid] }
			if aw(child)&(writeInsert|writeUpdate) != 0 && bw(parent)&(writeInsert|writeUpdate) != 0 {
				return child, true
			}
			if aw(parent)&(writeUpdate|writeDelete) != 0 && bw(child)&(writeUpdate|writeDelete) != 0 {
				return parent, true
			}
		}
	}
	return 0, false
}

func (t *translator) relName(oid uint32) string {
	if r, ok := t.cat.Relation(oid); ok {
		return `"` + r.Name + `"`
	}
	return "?"
}
