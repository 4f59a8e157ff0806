package sqlengine

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/funcs"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// maxFailingField is how many bytes of each value "Failing row contains"
// shows before "..." (PostgreSQL's maxfieldlen).
const maxFailingField = 64

// rowViolation words a NOT NULL or CHECK violation raised by
// chr2_row_violation (see funcs.RowViolationMarker) as PostgreSQL does,
// naming the relation, column or constraint from cat. e is returned
// unchanged when it is not such an error or cat does not know the objects.
func rowViolation(e *pgerr.Error, cat *catalog.Catalog) *pgerr.Error {
	if cat == nil || !strings.HasPrefix(e.Detail, funcs.RowViolationMarker) {
		return e
	}
	parts := strings.SplitN(strings.TrimPrefix(e.Detail, funcs.RowViolationMarker), ":", 4)
	if len(parts) != 4 || len(parts[0]) != 1 {
		return e
	}
	kind := parts[0][0]
	relOID, err1 := strconv.ParseUint(parts[1], 10, 32)
	id, err2 := strconv.ParseUint(parts[2], 10, 32)
	if err1 != nil || err2 != nil {
		return e
	}
	rel, ok := cat.Relation(uint32(relOID))
	if !ok {
		return e
	}
	values := parts[3]
	row, ok := failingRow(rel, values)
	if !ok {
		return e
	}
	switch kind {
	case 'n':
		col, ok := rel.ColumnByNum(int16(id))
		if !ok {
			return e
		}
		out := pgerr.New(pgerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint",
			col.Name, rel.Name).WithDetail("Failing row contains %s.", row)
		out.TableName, out.ColumnName = rel.Name, col.Name
		return out
	case 'c':
		for _, con := range rel.Constraint {
			if con.OID == uint32(id) {
				return pgerr.New(pgerr.CheckViolation, "new row for relation %q violates check constraint %q", rel.Name,
					con.Name).WithDetail("Failing row contains %s.", row).WithConstraint(rel.Name, con.Name)
			}
		}
	}
	return e
}

// failingRow renders the JSON array of storage values as PostgreSQL's
// "(v1, v2, null, …)", each value in its column type's text form.
func failingRow(rel *catalog.Relation, values string) (string, bool) {
	dec := json.NewDecoder(strings.NewReader(values))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil || len(raw) > len(rel.Columns) {
		return "", false
	}
	parts := make([]string, len(raw))
	for i, v := range raw {
		text, ok := storageText(rel.Columns[i].Type, v)
		if !ok {
			return "", false
		}
		parts[i] = clipField(text)
	}
	return "(" + strings.Join(parts, ", ") + ")", true
}

// storageText turns one decoded storage value into PostgreSQL text.
func storageText(typ pgval.OID, v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case json.Number:
		if sqltype.StorageOf(typ) == sqltype.Integer {
			i, err := x.Int64()
			v = i
			if err != nil {
				return "", false
			}
		} else {
			f, err := x.Float64()
			v = f
			if err != nil {
				return "", false
			}
		}
	case map[string]any:
		b, err := hex.DecodeString(fmt.Sprint(x["x"]))
		if err != nil {
			return "", false
		}
		v = b
	}
	pv, err := sqltype.FromStorage(typ, v)
	if err != nil {
		return "", false
	}
	text, err := pgval.Format(typ, pv, time.UTC)
	if err != nil {
		return "", false
	}
	return text, true
}

// clipField shortens a value to maxFailingField bytes on a character
// boundary, marking the cut with "...".
func clipField(s string) string {
	if len(s) <= maxFailingField {
		return s
	}
	cut := maxFailingField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	var b bytes.Buffer
	b.WriteString(s[:cut])
	b.WriteString("...")
	return b.String()
}
