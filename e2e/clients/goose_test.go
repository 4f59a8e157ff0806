package clients

import (
	"context"
	"embed"
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed testdata/goose/*.sql
var gooseFiles embed.FS

// TestGoose: goose's Provider with the Postgres session locker (advisory
// lock) applies SQL migrations (annotated Up/Down sections, a
// StatementBegin/End block), records them in goose_db_version (an identity
// column), and rolls them back one by one.
func TestGoose(t *testing.T) {
	n := startNode(t)
	db := openSQL(t, n, "pgx")
	ctx := testCtx(t)
	migrations, err := fs.Sub(gooseFiles, "testdata/goose")
	if err != nil {
		t.Fatal(err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 10))
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations, goose.WithSessionLocker(locker))
	if err != nil {
		t.Fatalf("goose provider: %v", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		t.Fatalf("goose up: %v", err)
	}
	if len(results) != 2 {
		t.Fatalf("goose applied %d migrations, want 2", len(results))
	}
	gooseVersion(t, ctx, p, 2)
	var rows, maxID int
	var applied bool
	err = db.QueryRowContext(ctx, "SELECT count(*), max(id), bool_and(is_applied) FROM goose_db_version").Scan(&rows, &maxID, &applied)
	if err != nil || rows != 3 || maxID != 3 || !applied { // version 0 row plus two migrations
		t.Fatalf("goose_db_version: %d rows, max id %d, applied %v, %v", rows, maxID, applied, err)
	}
	var label string
	if err := db.QueryRowContext(ctx, "SELECT label FROM widgets WHERE sku = 'w-2'").Scan(&label); err != nil || label != "second; widget" {
		t.Fatalf("seeded widget: %q %v", label, err)
	}
	if _, err := p.Down(ctx); err != nil {
		t.Fatalf("goose down: %v", err)
	}
	gooseVersion(t, ctx, p, 1)
	if _, err := db.ExecContext(ctx, "SELECT label FROM widgets"); sqlStateOf(err) != "42703" {
		t.Fatalf("widgets.label after down: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("goose up again: %v", err)
	}
	gooseVersion(t, ctx, p, 2)
	// Down deleted the row with id 3; the identity hands out 4, never 3 again.
	if err := db.QueryRowContext(ctx, "SELECT count(*), max(id) FROM goose_db_version").Scan(&rows, &maxID); err != nil || rows != 3 || maxID != 4 {
		t.Fatalf("goose_db_version after down/up: %d rows, max id %d, %v; want 3 rows, max id 4", rows, maxID, err)
	}
}

func gooseVersion(t *testing.T, ctx context.Context, p *goose.Provider, want int64) {
	t.Helper()
	v, err := p.GetDBVersion(ctx)
	if err != nil || v != want {
		t.Fatalf("goose version %d, %v; want %d", v, err, want)
	}
}
