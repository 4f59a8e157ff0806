package clients

import (
	"embed"
	"errors"
	"sync"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/postgres" // lib/pq-based driver, postgres:// URLs
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

//go:embed testdata/migrate/*.sql
var migrateFiles embed.FS

func newMigrate(t *testing.T, n *node) *migrate.Migrate {
	t.Helper()
	src, err := iofs.New(migrateFiles, "testdata/migrate")
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, n.url())
	if err != nil {
		t.Fatalf("migrate.New: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestGolangMigrate: two instances run Up at the same time (the advisory
// lock serialises them, the migrations apply once), schema_migrations
// tracks version and dirty flag, multi-statement files apply whole, and
// down/up steps undo and redo them.
func TestGolangMigrate(t *testing.T) {
	n := startNode(t)
	a, b := newMigrate(t, n), newMigrate(t, n)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, m := range []*migrate.Migrate{a, b} {
		wg.Add(1)
		go func(i int, m *migrate.Migrate) { defer wg.Done(); errs[i] = m.Up() }(i, m)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, migrate.ErrNoChange) {
			t.Fatalf("concurrent Up %d: %v", i, err)
		}
	}
	checkVersion(t, a, 3)
	db := openSQL(t, n, "postgres")
	var version int
	var dirty bool
	if err := db.QueryRow("SELECT version, dirty FROM schema_migrations").Scan(&version, &dirty); err != nil || version != 3 || dirty {
		t.Fatalf("schema_migrations: %d %v %v", version, dirty, err)
	}
	var users, orders int
	if err := db.QueryRow("SELECT count(*), (SELECT count(*) FROM orders) FROM users").Scan(&users, &orders); err != nil || users != 2 || orders != 3 {
		t.Fatalf("seeded rows %d users %d orders, %v", users, orders, err)
	}
	var email string
	if err := db.QueryRow("SELECT email FROM users WHERE name = 'ada'").Scan(&email); err != nil || email != "ada@example.com" {
		t.Fatalf("column added by migration 3: %q %v", email, err)
	}

	if err := a.Steps(-2); err != nil {
		t.Fatalf("down 2 steps: %v", err)
	}
	checkVersion(t, a, 1)
	if _, err := db.Exec("SELECT 1 FROM orders"); sqlStateOf(err) != "42P01" {
		t.Fatalf("orders after down to 1: %v", err)
	}
	if _, err := db.Exec("SELECT email FROM users"); sqlStateOf(err) != "42703" {
		t.Fatalf("users.email after down to 1: %v", err)
	}
	if err := a.Down(); err != nil {
		t.Fatalf("down: %v", err)
	}
	if _, err := db.Exec("SELECT 1 FROM users"); sqlStateOf(err) != "42P01" {
		t.Fatalf("users after full down: %v", err)
	}
	if err := b.Up(); err != nil {
		t.Fatalf("up again: %v", err)
	}
	checkVersion(t, b, 3)
}

func checkVersion(t *testing.T, m *migrate.Migrate, want uint) {
	t.Helper()
	v, dirty, err := m.Version()
	if err != nil || v != want || dirty {
		t.Fatalf("version %d dirty %v err %v, want %d clean", v, dirty, err, want)
	}
}
