package clients

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/psql/*.out from the server under test (review by hand)")

// TestPsqlGolden runs every testdata/psql/*.sql script through the real psql
// (stdin, echo on, errors interleaved as a terminal would show them) and
// compares the output with the matching .out file. The .out files were
// produced by PostgreSQL 15 (CHR2_CLIENTS_TARGET_URL=… go test -run
// TestPsqlGolden -update), so a difference is a difference from PostgreSQL.
func TestPsqlGolden(t *testing.T) {
	psql := requireTool(t, "psql")
	scripts, err := filepath.Glob(filepath.Join("testdata", "psql", "*.sql"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no psql scripts: %v", err)
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".sql")
		t.Run(name, func(t *testing.T) {
			n := startNode(t)
			if os.Getenv(targetEnv) != "" {
				// chr2sql always has its chr2 schema (sinks, effects); the
				// reference database gets one so \dn lists the same.
				n.exec(t, "CREATE SCHEMA chr2")
			}
			got := runPsqlScript(t, n, psql, script)
			golden := strings.TrimSuffix(script, ".sql") + ".out"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("psql output differs from PostgreSQL's (%s):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

var portPattern = regexp.MustCompile(`port "\d+"`)

// runPsqlScript feeds script to psql on stdin and returns stdout and stderr
// interleaved in the order psql wrote them, with the port normalised.
func runPsqlScript(t *testing.T, n *node, psql, script string) string {
	t.Helper()
	in, err := os.Open(script)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(t.TempDir(), "psql.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-X", "-a", "-P", "pager=off", "-v", "VERBOSITY=default")
	cmd.Env = append(n.pgEnv(), "LC_ALL=C.UTF-8", "PGTZ=UTC", "PGDATESTYLE=ISO, MDY")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, out // one file: psql's own write order
	if err := cmd.Run(); err != nil && ctx.Err() != nil {
		t.Fatalf("psql timed out:\n%s", n.log())
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	s := portPattern.ReplaceAllString(string(b), `port "PORT"`)
	if n.db != "postgres" {
		s = strings.ReplaceAll(s, n.db, "postgres")
	}
	return s
}

// lineDiff returns a unified diff of want and got (diff(1) from diffutils,
// which every Debian system has).
func lineDiff(want, got string) string {
	dir, err := os.MkdirTemp("", "psqldiff")
	if err != nil {
		return got
	}
	defer os.RemoveAll(dir)
	wf, gf := filepath.Join(dir, "postgres"), filepath.Join(dir, "chr2sql")
	os.WriteFile(wf, []byte(want), 0o644)
	os.WriteFile(gf, []byte(got), 0o644)
	out, _ := exec.Command("diff", "-u", wf, gf).CombinedOutput()
	return string(out)
}
