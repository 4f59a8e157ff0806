package sqlengine

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/funcs"
)

// Sentinel errors of the engine, translated to SQLSTATEs at the session.
var (
	ErrNotLeader    = errors.New("sqlengine: this node is not the leader")
	ErrNoQuorum     = errors.New("sqlengine: no quorum")
	ErrAmbiguous    = errors.New("sqlengine: commit outcome unknown")
	ErrLostProposal = errors.New("sqlengine: proposal lost to a leadership change")
	ErrHalted       = errors.New("sqlengine: node halted")
	ErrClosed       = errors.New("sqlengine: engine closed")
	// ErrLeaderIsLocal is a Forwarder's answer when consensus already
	// elected this node: the engine is about to take writes itself.
	ErrLeaderIsLocal = errors.New("sqlengine: this node was just elected leader")
)

// SQLite primary result codes used below.
const (
	sqliteConstraint = 19
	sqliteInterrupt  = 9
	sqliteBusy       = 5
	sqliteFull       = 13
	sqliteTooBig     = 18
)

// mapError turns an error from SQLite execution into a *pgerr.Error, naming
// the constraint PostgreSQL would name.
func mapError(err error, cat *catalog.Catalog) error {
	if err == nil {
		return nil
	}
	var pe *pgerr.Error
	if errors.As(err, &pe) {
		return pe
	}
	if errors.Is(err, context.Canceled) {
		return pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return pgerr.New(pgerr.QueryCanceled, "canceling statement due to statement timeout")
	}
	msg := err.Error()
	if e, ok := funcs.DecodeError(msg); ok {
		e.Message = trimResultCode(e.Message)
		return rowViolation(e, cat) // rowviolation.go
	}
	var se *sqlite.Error
	code := 0
	if errors.As(err, &se) {
		code = se.Code() & 0xff
		msg = se.Error()
	}
	switch {
	case code == sqliteInterrupt || strings.Contains(msg, "interrupted"):
		return pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
	case code == sqliteConstraint || strings.Contains(msg, "constraint failed"):
		return constraintError(msg, cat)
	case code == sqliteFull:
		return pgerr.Wrap(err, pgerr.DiskFull, "could not extend file: no space left on device")
	case code == sqliteTooBig:
		return pgerr.Wrap(err, pgerr.ProgramLimitExceeded, "value too large")
	case strings.Contains(msg, "non-deterministic functions prohibited in index expressions"):
		// chr2_now, chr2_random, … read the entry's context: not IMMUTABLE.
		return pgerr.New(pgerr.InvalidObjectDefinition, "functions in index expression must be marked IMMUTABLE")
	case strings.Contains(msg, "cannot store") && strings.Contains(msg, "value in"):
		return pgerr.Wrap(err, pgerr.DatatypeMismatch, "value does not match the column type")
	}
	return pgerr.Wrap(err, pgerr.InternalError, "internal error: %s", sqliteMessage(msg))
}

// trimResultCode drops the " (1)" SQLite appends to an error message.
func trimResultCode(msg string) string {
	if j := strings.LastIndex(msg, " ("); j >= 0 && strings.HasSuffix(msg, ")") {
		if _, err := strconv.Atoi(msg[j+2 : len(msg)-1]); err == nil {
			return msg[:j]
		}
	}
	return msg
}

// sqliteMessage strips the driver's decoration from a SQLite error text.
func sqliteMessage(msg string) string {
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "SQL logic error") {
		return msg[i+2:]
	}
	return msg
}

// constraintError maps SQLite constraint failures to PostgreSQL's errors.
func constraintError(msg string, cat *catalog.Catalog) error {
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed: index '"):
		return exprIndexViolation(msg, cat)
	case strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "PRIMARY KEY"):
		table, cols := failedColumns(msg, "UNIQUE constraint failed: ")
		name := uniqueConstraintName(cat, table, cols)
		e := pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint %q", name).
			WithConstraint(displayTable(table), name)
		if len(cols) > 0 {
			e.Detail = "Key (" + strings.Join(cols, ", ") + ") already exists."
		}
		return e
	case strings.Contains(msg, "NOT NULL constraint failed"):
		table, cols := failedColumns(msg, "NOT NULL constraint failed: ")
		col := ""
		if len(cols) > 0 {
			col = cols[0]
		}
		e := pgerr.New(pgerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint",
			col, displayTable(table))
		e.TableName, e.ColumnName = displayTable(table), col
		return e
	case strings.Contains(msg, "CHECK constraint failed"):
		return checkError(msg, cat)
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return pgerr.New(pgerr.ForeignKeyViolation, "insert or update on table violates foreign key constraint").
			WithDetail("A referenced row is missing or a referencing row still exists.")
	}
	return pgerr.New(pgerr.IntegrityConstraintViolation, "%s", sqliteMessage(msg))
}

// failedColumns parses "prefix t.a, t.b" into ("t", ["a", "b"]).
func failedColumns(msg, prefix string) (string, []string) {
	i := strings.Index(msg, prefix)
	if i < 0 {
		return "", nil
	}
	rest := msg[i+len(prefix):]
	if j := strings.Index(rest, " ("); j >= 0 {
		rest = rest[:j]
	}
	var table string
	var cols []string
	for _, part := range strings.Split(rest, ", ") {
		k := strings.LastIndexByte(part, '.')
		if k < 0 {
			continue
		}
		table = part[:k]
		cols = append(cols, part[k+1:])
	}
	return table, cols
}

func displayTable(sqliteName string) string {
	// A table rebuild (ALTER TABLE) copies rows into "<name>$new".
	sqliteName = strings.TrimSuffix(sqliteName, "$new")
	if i := strings.IndexByte(sqliteName, '.'); i >= 0 {
		return sqliteName[i+1:]
	}
	return sqliteName
}

func uniqueConstraintName(cat *catalog.Catalog, table string, cols []string) string {
	if cat != nil {
		for _, rel := range cat.Relations() {
			if rel.SQLiteName != table {
				continue
			}
			for _, idx := range rel.Indexes {
				if !idx.Unique || len(idx.Columns) != len(cols) {
					continue
				}
				match := true
				for i, n := range idx.Columns {
					c, ok := rel.ColumnByNum(n)
					if !ok || c.Name != cols[i] {
						match = false
						break
					}
				}
				if match {
					return idx.Name
				}
			}
		}
	}
	return displayTable(table) + "_" + strings.Join(cols, "_") + "_key"
}

// checkError maps a failed CHECK; chr2_len$col$n and chr2_range$col$type
// are the constraints that enforce PostgreSQL type rules.
func checkError(msg string, cat *catalog.Catalog) error {
	name := msg[strings.Index(msg, "CHECK constraint failed")+len("CHECK constraint failed"):]
	name = strings.TrimSpace(strings.TrimPrefix(name, ":"))
	if j := strings.Index(name, " ("); j >= 0 {
		name = name[:j]
	}
	switch {
	case strings.HasPrefix(name, "chr2_len$"):
		parts := strings.Split(name, "$")
		n := parts[len(parts)-1]
		return pgerr.New(pgerr.StringDataRightTruncation, "value too long for type character varying(%s)", n)
	case name == "effects_payload_size":
		return pgerr.New(pgerr.ProgramLimitExceeded, "effect payload exceeds 262144 bytes").
			WithHint("Keep webhook bodies small: store the data in a table and send its key.")
	case strings.HasPrefix(name, "chr2_range$"):
		parts := strings.Split(name, "$")
		return pgerr.New(pgerr.NumericValueOutOfRange, "%s out of range", parts[len(parts)-1])
	}
	if rel := constraintRelation(cat, name); rel != "" {
		return pgerr.New(pgerr.CheckViolation, "new row for relation %q violates check constraint %q", rel, name).
			WithConstraint(rel, name)
	}
	return pgerr.New(pgerr.CheckViolation, "new row violates check constraint %q", name).WithConstraint("", name)
}

// constraintRelation names the table a constraint belongs to.
func constraintRelation(cat *catalog.Catalog, name string) string {
	if cat == nil {
		return ""
	}
	for _, rel := range cat.Relations() {
		for _, con := range rel.Constraint {
			if con.Name == name {
				return rel.Name
			}
		}
	}
	return ""
}

// exprIndexViolation maps SQLite's "UNIQUE constraint failed: index 'x'",
// its message for a unique index with expression keys, to the index's
// PostgreSQL name; the key values are not known here.
func exprIndexViolation(msg string, cat *catalog.Catalog) error {
	name := msg[strings.Index(msg, "index '")+len("index '"):]
	if i := strings.IndexByte(name, '\''); i >= 0 {
		name = name[:i]
	}
	table := ""
	if cat != nil {
		for _, rel := range cat.Relations() {
			for _, idx := range rel.Indexes {
				if idx.SQLiteName == name {
					name, table = idx.Name, rel.Name
				}
			}
		}
	}
	return pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint %q", name).
		WithConstraint(table, name)
}
