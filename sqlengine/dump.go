package sqlengine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
)

// Dump renders the whole state database — schema and every row of every
// table in a fixed order — so that tests can assert that nodes hold
// identical state at the same applied index.
func (e *Engine) Dump() (string, error) {
	rc := <-e.readers
	defer func() { e.readers <- rc }()
	ctx := context.Background()
	if err := rc.execScript(ctx, "BEGIN"); err != nil {
		return "", err
	}
	defer rc.execScript(ctx, "ROLLBACK")
	var tables []string
	var b strings.Builder
	err := rc.query(ctx, `SELECT type, name, coalesce(sql, '') FROM sqlite_schema
		WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`, nil, func(r []driver.Value) error {
		fmt.Fprintf(&b, "%s %s: %s\n", r[0], r[1], r[2])
		if r[0] == "table" {
			tables = append(tables, r[1].(string))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	for _, t := range tables {
		fmt.Fprintf(&b, "== %s\n", t)
		err := rc.query(ctx, "SELECT * FROM "+quote(t)+" ORDER BY rowid", nil, func(r []driver.Value) error {
			for i, v := range r {
				if i > 0 {
					b.WriteByte('|')
				}
				fmt.Fprintf(&b, "%T:%v", v, v)
			}
			b.WriteByte('\n')
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("dump %s: %w", t, err)
		}
	}
	return b.String(), nil
}
