package corpus

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Target hands out a fresh, empty database for each corpus file.
type Target interface {
	// Fresh returns a connection to a new empty database named after the
	// file and a function that releases it.
	Fresh(ctx context.Context, file string) (*pgconn.PgConn, func(), error)
}

// Outcome is one statement's pair of results and the verdict.
type Outcome struct {
	File, SQL string
	PG, Chr2  Result
	Verdict   string
}

// Matched reports whether the two servers agreed.
func (o Outcome) Matched() bool { return o.Verdict == Match }

// sessionParams makes both servers format values the same way.
var sessionParams = map[string]string{"TimeZone": "UTC", "DateStyle": "ISO, MDY"}

// statementTimeout bounds each statement on each server.
const statementTimeout = 30 * time.Second

// Run executes every file on both targets, statement by statement.
func Run(ctx context.Context, files []File, pg, chr2 Target) ([]Outcome, error) {
	var out []Outcome
	for _, f := range files {
		got, err := runFile(ctx, f, pg, chr2)
		if err != nil {
			return nil, fmt.Errorf("corpus: %s: %w", f.Name, err)
		}
		out = append(out, got...)
	}
	return out, nil
}

func runFile(ctx context.Context, f File, pg, chr2 Target) ([]Outcome, error) {
	pgConn, pgDone, err := pg.Fresh(ctx, f.Name)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer pgDone()
	chrConn, chrDone, err := chr2.Fresh(ctx, f.Name)
	if err != nil {
		return nil, fmt.Errorf("chr2sql: %w", err)
	}
	defer chrDone()
	var out []Outcome
	for _, sql := range f.Statements {
		pgRes, err := execBounded(ctx, pgConn, sql)
		if err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", sql, err)
		}
		chrRes, err := execBounded(ctx, chrConn, sql)
		if err != nil {
			// The connection is gone (a crash or a protocol error): record
			// it and continue the file on a new connection.
			chrRes = Result{SQLState: "conn", Message: err.Error()}
			chrDone()
			if chrConn, chrDone, err = chr2.Fresh(ctx, f.Name); err != nil {
				return nil, fmt.Errorf("chr2sql reconnect: %w", err)
			}
		}
		out = append(out, Outcome{File: f.Name, SQL: sql, PG: pgRes, Chr2: chrRes, Verdict: Compare(pgRes, chrRes, Ordered(sql))})
	}
	return out, nil
}

func execBounded(ctx context.Context, conn *pgconn.PgConn, sql string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, statementTimeout)
	defer cancel()
	return Exec(ctx, conn, sql)
}

// connect opens a pgconn with the corpus session parameters.
func connect(ctx context.Context, url string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return pgconn.ConnectConfig(ctx, cfg)
}
