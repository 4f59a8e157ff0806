package clients

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/lib/pq"
)

// openSQL opens a database/sql pool on the node with the named driver.
func openSQL(t *testing.T, n *node, driver string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, n.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("%s ping: %v", driver, err)
	}
	return db
}

// TestLibPQDatabaseSQL drives chr2sql through database/sql with lib/pq (and
// pgx's stdlib driver for comparison): prepared statements, NULLs, arrays,
// bytea, timestamps, transactions, a concurrent pool, errors as *pq.Error,
// and COPY through pq.CopyIn.
func TestLibPQDatabaseSQL(t *testing.T) {
	n := startNode(t)
	for _, driver := range []string{"postgres", "pgx"} {
		t.Run(driver, func(t *testing.T) {
			db := openSQL(t, n, driver)
			table := "notes_" + driver
			ctx := testCtx(t)
			mustExec(t, db, fmt.Sprintf(`CREATE TABLE %s(id serial PRIMARY KEY, title text NOT NULL, body text,
				blob bytea, at timestamptz NOT NULL, score float8)`, table))
			at := time.Date(2023, 7, 14, 9, 30, 0, 250000000, time.UTC)
			ins, err := db.PrepareContext(ctx, fmt.Sprintf(
				"INSERT INTO %s(title, body, blob, at, score) VALUES ($1, $2, $3, $4, $5) RETURNING id", table))
			if err != nil {
				t.Fatalf("prepare insert: %v", err)
			}
			defer ins.Close()
			var id1, id2 int
			if err := ins.QueryRowContext(ctx, "first", "body", []byte{0, 0xff}, at, 0.25).Scan(&id1); err != nil {
				t.Fatalf("insert: %v", err)
			}
			if err := ins.QueryRowContext(ctx, "second", nil, nil, at.Add(time.Hour), nil).Scan(&id2); err != nil {
				t.Fatalf("insert NULLs: %v", err)
			}
			if id1 != 1 || id2 != 2 {
				t.Fatalf("serial ids %d %d, want 1 2", id1, id2)
			}
			var body sql.NullString
			var blob []byte
			var gotAt time.Time
			var score sql.NullFloat64
			err = db.QueryRowContext(ctx, fmt.Sprintf("SELECT body, blob, at, score FROM %s WHERE title = $1", table), "first").
				Scan(&body, &blob, &gotAt, &score)
			if err != nil || body.String != "body" || string(blob) != "\x00\xff" || !gotAt.Equal(at) || score.Float64 != 0.25 {
				t.Fatalf("row 1: %v %q %v %v %v", body, blob, gotAt, score, err)
			}
			err = db.QueryRowContext(ctx, fmt.Sprintf("SELECT body, score FROM %s WHERE id = $1", table), id2).Scan(&body, &score)
			if err != nil || body.Valid || score.Valid {
				t.Fatalf("row 2 NULLs: %v %v %v", body, score, err)
			}
			concurrentInserts(t, db, table)
			rollbackAndErrors(t, db, table)
		})
	}
	t.Run("Arrays", func(t *testing.T) { libpqArrays(t, openSQL(t, n, "postgres")) })
	t.Run("CopyIn", func(t *testing.T) { libpqCopyIn(t, openSQL(t, n, "postgres")) })
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(testCtx(t), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

// concurrentInserts writes from 8 pooled connections at once.
func concurrentInserts(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	db.SetMaxOpenConns(8)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := db.ExecContext(testCtx(t), fmt.Sprintf("INSERT INTO %s(title, at) VALUES ($1, now())", table), fmt.Sprintf("w%d-%d", w, i))
				if err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent insert: %v", err)
	}
	var count, distinct int
	err := db.QueryRowContext(testCtx(t), fmt.Sprintf("SELECT count(*), count(DISTINCT id) FROM %s WHERE title LIKE 'w%%'", table)).Scan(&count, &distinct)
	if err != nil || count != workers*each || distinct != count {
		t.Fatalf("after concurrent inserts: %d rows, %d distinct ids, %v", count, distinct, err)
	}
}

func rollbackAndErrors(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	ctx := testCtx(t)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s", table)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s", table)).Scan(&count); err != nil || count != 202 {
		t.Fatalf("after rollback: %d rows (%v), want 202", count, err)
	}
	_, err = db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s(id, title, at) VALUES (1, 'x', now())", table))
	if sqlStateOf(err) != string(pgerr.UniqueViolation) {
		t.Fatalf("duplicate id: want %s, got %v", pgerr.UniqueViolation, err)
	}
	if pqErr, ok := err.(*pq.Error); ok && pqErr.Constraint != table+"_pkey" {
		t.Errorf("constraint %q, want %s_pkey", pqErr.Constraint, table)
	}
	_, err = db.ExecContext(ctx, "SELECT * FROM no_such_table WHERE x = $1", 1)
	if sqlStateOf(err) != string(pgerr.UndefinedTable) {
		t.Fatalf("missing table: want %s, got %v", pgerr.UndefinedTable, err)
	}
}

// libpqCopyIn uses lib/pq's COPY … FROM STDIN (a prepared COPY statement fed
// row by row, text format) in a transaction.
func libpqCopyIn(t *testing.T, db *sql.DB) {
	ctx := testCtx(t)
	mustExec(t, db, "CREATE TABLE measurements(sensor text NOT NULL, at timestamptz NOT NULL, value float8, note text)")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, "COPY measurements (sensor, at, value, note) FROM STDIN")
	if err != nil {
		t.Fatalf("prepare COPY: %v", err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		var note any = fmt.Sprintf("tab\there, newline\nthere, backslash\\ %d", i)
		if i%3 == 0 {
			note = nil
		}
		if _, err := stmt.ExecContext(ctx, fmt.Sprintf("s%d", i%7), base.Add(time.Duration(i)*time.Second), float64(i)/2, note); err != nil {
			t.Fatalf("copy row %d: %v", i, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		t.Fatalf("copy end: %v", err)
	}
	if err := stmt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var count, nulls int
	var sum float64
	var note string
	err = db.QueryRowContext(ctx, "SELECT count(*), count(*) - count(note), sum(value) FROM measurements").Scan(&count, &nulls, &sum)
	if err != nil || count != 1000 || nulls != 334 || sum != 249750 {
		t.Fatalf("after COPY: %d rows, %d NULL notes, sum %v, %v", count, nulls, sum, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT note FROM measurements WHERE value = 0.5").Scan(&note); err != nil ||
		note != "tab\there, newline\nthere, backslash\\ 1" {
		t.Fatalf("escaped text through COPY: %q %v", note, err)
	}
}

// libpqArrays sends and reads text[] and int8[] through pq.Array, the way
// lib/pq applications pass lists (= ANY($1)).
func libpqArrays(t *testing.T, db *sql.DB) {
	ctx := testCtx(t)
	mustExec(t, db, "CREATE TABLE tagged(id int8 PRIMARY KEY, tags text[] NOT NULL)")
	mustExec(t, db, "INSERT INTO tagged VALUES ($1, $2), ($3, $4)", 1, pq.Array([]string{"a", "b c", `q"uote`}), 2, pq.Array([]string{}))
	var tags []string
	if err := db.QueryRowContext(ctx, "SELECT tags FROM tagged WHERE id = 1").Scan(pq.Array(&tags)); err != nil ||
		len(tags) != 3 || tags[1] != "b c" || tags[2] != `q"uote` {
		t.Fatalf("text[] round trip: %q %v", tags, err)
	}
	var count int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM tagged WHERE id = ANY($1)", pq.Array([]int64{1, 2, 3})).Scan(&count); err != nil || count != 2 {
		t.Fatalf("= ANY($1): %d %v", count, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM tagged WHERE 'b c' = ANY(tags)").Scan(&count); err != nil || count != 1 {
		t.Fatalf("'b c' = ANY(tags): %d %v", count, err)
	}
}
