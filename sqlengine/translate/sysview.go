package translate

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// systemViewSQL renders an emulated pg_catalog/information_schema relation
// with the session's values filled in.
func (t *translator) systemViewSQL(rel *catalog.Relation) string {
	sql := rel.ViewSQL
	if !strings.Contains(sql, "{{") {
		return sql
	}
	r := strings.NewReplacer(
		catalog.PlaceholderUser, sqltype.QuoteString(t.opts.User),
		catalog.PlaceholderDB, sqltype.QuoteString(t.opts.Database),
	)
	sql = r.Replace(sql)
	// The costlier values are computed only for views that use them.
	sql = replaceLazily(sql, catalog.PlaceholderSettings, t.settingsValues)
	sql = replaceLazily(sql, catalog.PlaceholderPrepared, t.preparedValues)
	return replaceLazily(sql, catalog.PlaceholderProcs, procValues)
}

func replaceLazily(sql, placeholder string, value func() string) string {
	if i := strings.Index(sql, placeholder); i >= 0 {
		return sql[:i] + value() + sql[i+len(placeholder):]
	}
	return sql
}

func (t *translator) settingsValues() string {
	var rows [][2]string
	if t.opts.Settings != nil {
		rows = t.opts.Settings()
	}
	if len(rows) == 0 {
		return "(NULL, NULL)"
	}
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = "(" + sqltype.QuoteString(r[0]) + ", " + sqltype.QuoteString(r[1]) + ")"
	}
	return strings.Join(parts, ", ")
}

// procValues lists the functions the translator knows as pg_proc rows
// (oid, proname, prokind); OIDs follow the sorted names.
func procValues() string {
	procOnce.Do(func() { procRows = buildProcValues() })
	return procRows
}

var (
	procOnce sync.Once
	procRows string
)

func buildProcValues() string {
	table := functions
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		kind := "f"
		if table[n].agg {
			kind = "a"
		}
		parts[i] = "(" + strconv.Itoa(100000+i) + ", " + sqltype.QuoteString(n) + ", '" + kind + "')"
	}
	return strings.Join(parts, ", ")
}

// PreparedStatement describes one of the session's prepared statements for
// pg_prepared_statements.
type PreparedStatement struct {
	Name, SQL  string
	Prepared   string // prepare_time in storage form
	ParamTypes []string
	FromSQL    bool
}

func (t *translator) preparedValues() string {
	var rows []PreparedStatement
	if t.opts.Prepared != nil {
		rows = t.opts.Prepared()
	}
	if len(rows) == 0 {
		return "(NULL, NULL, NULL, NULL, NULL)"
	}
	parts := make([]string, len(rows))
	for i, r := range rows {
		types := make([]any, len(r.ParamTypes))
		for j, p := range r.ParamTypes {
			types[j] = p
		}
		arr, _ := pgval.Format(pgval.TextArrayOID, types, nil)
		parts[i] = "(" + sqltype.QuoteString(r.Name) + ", " + sqltype.QuoteString(r.SQL) + ", " +
			sqltype.QuoteString(r.Prepared) + ", " + sqltype.QuoteString(arr) + ", " + strconv.Itoa(b2i(r.FromSQL)) + ")"
	}
	return strings.Join(parts, ", ")
}
