package corpus

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Column is a result column as the client sees it.
type Column struct {
	Name string
	OID  uint32
}

// Result is what one statement produced on one server.
type Result struct {
	SQLState string // empty when the statement succeeded
	Message  string
	Columns  []Column
	Rows     [][]*string // text format; nil is SQL NULL
	Tag      string
}

// Failed reports whether the statement ended with an error.
func (r Result) Failed() bool { return r.SQLState != "" }

// Summary is a one-line description for reports.
func (r Result) Summary() string {
	if r.Failed() {
		return "ERROR " + r.SQLState + ": " + r.Message
	}
	var b strings.Builder
	b.WriteString(r.Tag)
	if len(r.Columns) > 0 {
		b.WriteString(" [")
		for i, c := range r.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s:%d", c.Name, c.OID)
		}
		b.WriteString("]")
	}
	for i, row := range r.Rows {
		if i == 3 {
			fmt.Fprintf(&b, " … (%d rows)", len(r.Rows))
			break
		}
		b.WriteString(" (" + rowText(row) + ")")
	}
	return b.String()
}

func rowText(row []*string) string {
	parts := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = *v
		}
	}
	return strings.Join(parts, ", ")
}

// Exec runs one statement over the simple query protocol and records what
// the client saw. A network or protocol failure (not a server error) is
// returned as an error. Column descriptions are taken from RowDescription
// even when no row follows (pgconn's Read drops them then).
func Exec(ctx context.Context, conn *pgconn.PgConn, sql string) (Result, error) {
	mrr := conn.Exec(ctx, sql)
	var res Result
	seen := false
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		cur := Result{}
		for _, f := range rr.FieldDescriptions() {
			cur.Columns = append(cur.Columns, Column{Name: f.Name, OID: f.DataTypeOID})
		}
		for rr.NextRow() {
			vals := make([]*string, len(rr.Values()))
			for i, v := range rr.Values() {
				if v != nil {
					s := string(v)
					vals[i] = &s
				}
			}
			cur.Rows = append(cur.Rows, vals)
		}
		tag, err := rr.Close()
		if err != nil {
			mrr.Close()
			return errorResult(err)
		}
		cur.Tag = tag.String()
		res, seen = cur, true
	}
	if err := mrr.Close(); err != nil {
		return errorResult(err)
	}
	if !seen {
		return Result{Tag: "EMPTY"}, nil
	}
	return res, nil
}

func errorResult(err error) (Result, error) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return Result{SQLState: pgErr.Code, Message: pgErr.Message}, nil
	}
	return Result{}, err
}

// Verdict kinds.
const (
	Match       = "match"
	OnlyPGError = "chr2sql succeeded where PostgreSQL failed"
	OnlyError   = "chr2sql failed where PostgreSQL succeeded"
	StateDiffer = "different SQLSTATE"
	ColsDiffer  = "different column names"
	TypesDiffer = "different column types"
	TagDiffer   = "different command tag"
	RowsDiffer  = "different rows"
)

// Compare decides whether chr2sql's result matches PostgreSQL's (the rules
// are in the package documentation) and names the first difference.
func Compare(pg, chr Result, ordered bool) string {
	switch {
	case pg.Failed() && chr.Failed():
		if pg.SQLState != chr.SQLState {
			return StateDiffer
		}
		return Match
	case pg.Failed():
		return OnlyPGError
	case chr.Failed():
		return OnlyError
	}
	if len(pg.Columns) != len(chr.Columns) {
		return ColsDiffer
	}
	for i := range pg.Columns {
		if pg.Columns[i].Name != chr.Columns[i].Name {
			return ColsDiffer
		}
	}
	for i := range pg.Columns {
		if !sameType(pg.Columns[i].OID, chr.Columns[i].OID) {
			return TypesDiffer
		}
	}
	if pg.Tag != chr.Tag {
		return TagDiffer
	}
	if !sameRows(pg.Rows, chr.Rows, ordered) {
		return RowsDiffer
	}
	return Match
}

// FirstRowDiff describes the first row where two results differ, in the
// order Compare used ("" when the rows match).
func FirstRowDiff(pg, chr Result, ordered bool) string {
	ka, kb := rowKeys(pg.Rows), rowKeys(chr.Rows)
	ra, rb := pg.Rows, chr.Rows
	if !ordered {
		ra, rb = sortedRows(pg.Rows), sortedRows(chr.Rows)
		sort.Strings(ka)
		sort.Strings(kb)
	}
	for i := 0; i < len(ka) || i < len(kb); i++ {
		switch {
		case i >= len(ka):
			return fmt.Sprintf("row %d: PostgreSQL has no more rows, chr2sql (%s)", i+1, rowText(rb[i]))
		case i >= len(kb):
			return fmt.Sprintf("row %d: PostgreSQL (%s), chr2sql has no more rows", i+1, rowText(ra[i]))
		case ka[i] != kb[i]:
			return fmt.Sprintf("row %d: PostgreSQL (%s), chr2sql (%s)", i+1, rowText(ra[i]), rowText(rb[i]))
		}
	}
	return ""
}

func sortedRows(rows [][]*string) [][]*string {
	keys := rowKeys(rows)
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([][]*string, len(rows))
	for i, j := range idx {
		out[i] = rows[j]
	}
	return out
}

// firstNormalObjectID is PostgreSQL's FirstNormalObjectId: OIDs from here
// on are assigned at run time (user-defined enums, domains, composite
// types) and differ between databases.
const firstNormalObjectID = 16384

// sameType compares column type OIDs; two run-time assigned OIDs count as
// the same type, the column name and values are compared anyway.
func sameType(a, b uint32) bool {
	return a == b || a >= firstNormalObjectID && b >= firstNormalObjectID
}

func sameRows(a, b [][]*string, ordered bool) bool {
	if len(a) != len(b) {
		return false
	}
	ka, kb := rowKeys(a), rowKeys(b)
	if !ordered {
		sort.Strings(ka)
		sort.Strings(kb)
	}
	for i := range ka {
		if ka[i] != kb[i] {
			return false
		}
	}
	return true
}

// rowKeys encodes rows so that NULL differs from every string.
func rowKeys(rows [][]*string) []string {
	keys := make([]string, len(rows))
	for i, row := range rows {
		var b strings.Builder
		for _, v := range row {
			if v == nil {
				b.WriteString("\x00N")
			} else {
				b.WriteString("\x00S" + *v)
			}
		}
		keys[i] = b.String()
	}
	return keys
}
