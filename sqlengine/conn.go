package sqlengine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/sqlengine/funcs"
)

// maxCachedStmts bounds each connection's prepared-statement cache.
const maxCachedStmts = 512

// sqliteConn is one SQLite connection with its own function Env and a
// prepared-statement cache. It is not safe for concurrent use.
type sqliteConn struct {
	conn  driver.Conn
	env   *funcs.Env
	stmts map[string]driver.Stmt
	order []string // insertion order for eviction
}

// dbURI builds the modernc DSN for the state database.
func dbURI(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	// The log is the source of truth; NORMAL keeps WAL-mode SQLite
	// consistent across crashes without an fsync per commit.
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "case_sensitive_like(1)")
	q.Add("_pragma", "recursive_triggers(1)")
	q.Add("_pragma", "cache_size(-65536)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(path string, readOnly bool) (*sqliteConn, error) {
	env := &funcs.Env{}
	drv := &sqlite.Driver{}
	if err := funcs.Register(drv, env); err != nil {
		return nil, err
	}
	c, err := drv.Open(dbURI(path, readOnly))
	if err != nil {
		return nil, fmt.Errorf("sqlengine: open %s: %w", path, err)
	}
	return &sqliteConn{conn: c, env: env, stmts: map[string]driver.Stmt{}}, nil
}

func (c *sqliteConn) close() error {
	for _, s := range c.stmts {
		s.Close()
	}
	c.stmts = nil
	return c.conn.Close()
}

func (c *sqliteConn) prepare(ctx context.Context, sql string) (driver.Stmt, error) {
	if s, ok := c.stmts[sql]; ok {
		return s, nil
	}
	s, err := c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, sql)
	if err != nil {
		return nil, err
	}
	if len(c.order) >= maxCachedStmts {
		old := c.order[0]
		c.order = c.order[1:]
		if st, ok := c.stmts[old]; ok {
			st.Close()
			delete(c.stmts, old)
		}
	}
	c.stmts[sql] = s
	c.order = append(c.order, sql)
	return s, nil
}

func named(args []any) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

// exec runs a statement that returns no rows and reports rows affected.
func (c *sqliteConn) exec(ctx context.Context, sql string, args []any) (int64, error) {
	s, err := c.prepare(ctx, sql)
	if err != nil {
		return 0, err
	}
	res, err := s.(driver.StmtExecContext).ExecContext(ctx, named(args))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// query runs a statement and calls fn for each row; the row slice is reused.
func (c *sqliteConn) query(ctx context.Context, sql string, args []any, fn func([]driver.Value) error) error {
	s, err := c.prepare(ctx, sql)
	if err != nil {
		return err
	}
	rows, err := s.(driver.StmtQueryContext).QueryContext(ctx, named(args))
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := fn(dest); err != nil {
			return err
		}
	}
}

// execScript runs statements without caching them (DDL, bootstrap).
func (c *sqliteConn) execScript(ctx context.Context, stmts ...string) error {
	for _, q := range stmts {
		if _, err := c.conn.(driver.ExecerContext).ExecContext(ctx, q, nil); err != nil {
			return fmt.Errorf("%w (in %q)", err, q)
		}
	}
	return nil
}

// QueryAll implements catalog.Querier.
func (c *sqliteConn) QueryAll(sql string) ([][]any, error) {
	var out [][]any
	err := c.query(context.Background(), sql, nil, func(row []driver.Value) error {
		r := make([]any, len(row))
		for i, v := range row {
			r[i] = copyValue(v)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// copyValue detaches a value from SQLite-owned memory.
func copyValue(v driver.Value) any {
	if b, ok := v.([]byte); ok {
		return append([]byte(nil), b...)
	}
	return v
}
