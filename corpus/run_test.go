package corpus

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// startReference starts a throw-away PostgreSQL 15 or skips when the server
// binaries are not installed (.ci/run installs postgresql-15).
func startReference(t *testing.T) *Postgres {
	t.Helper()
	pg, err := StartPostgres(DefaultPGBin)
	if err != nil {
		if _, statErr := os.Stat(filepath.Join(DefaultPGBin, "initdb")); statErr != nil {
			t.Skipf("PostgreSQL 15 server not installed (.ci/run installs postgresql-15): %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	return pg
}

// TestCorpusDeterministicOnPostgres runs the whole corpus on PostgreSQL
// against PostgreSQL: every statement must match itself, so no result
// depends on time, randomness or the database's name, and every mismatch
// the report shows for chr2sql is chr2sql's.
func TestCorpusDeterministicOnPostgres(t *testing.T) {
	pg := startReference(t)
	files, err := Load("sql")
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := Run(context.Background(), files, pg, pg)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if !o.Matched() {
			t.Errorf("%s: %s: %s\n  first: %s\n  again: %s", o.File, o.SQL, o.Verdict, o.PG.Summary(), o.Chr2.Summary())
		}
	}
}

// TestRunAgainstChr2sql drives the real runner end to end on a small corpus
// (testdata/smoke) against PostgreSQL and a chr2sql built from this tree;
// the statements there are ones chr2sql has answered like PostgreSQL since
// the walking skeleton.
func TestRunAgainstChr2sql(t *testing.T) {
	pg := startReference(t)
	binary := os.Getenv("CHR2_CORPUS_BINARY") // a prebuilt chr2sql, for runs while the tree is mid-edit
	if binary == "" {
		_, file, _, _ := runtime.Caller(0)
		binary = filepath.Join(t.TempDir(), "chr2sql")
		build := exec.Command("go", "build", "-o", binary, "./cmd/chr2sql")
		build.Dir = filepath.Join(filepath.Dir(file), "..")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build chr2sql: %v\n%s", err, out)
		}
	}
	files, err := Load(filepath.Join("testdata", "smoke"))
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := Run(context.Background(), files, pg, &Chr2{Binary: binary})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if !o.Matched() {
			t.Errorf("%s: %s\n  PostgreSQL: %s\n  chr2sql:    %s", o.SQL, o.Verdict, o.PG.Summary(), o.Chr2.Summary())
		}
	}
	if len(outcomes) != 8 {
		t.Fatalf("%d outcomes, want 8", len(outcomes))
	}
}
