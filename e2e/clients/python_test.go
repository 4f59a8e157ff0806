package clients

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var unittestSummary = regexp.MustCompile(`(?m)^Ran (\d+) tests? in [0-9.]+s\s*\n\s*\nOK\s*$`)

// debianPython finds a python3 that can import psycopg2 and SQLAlchemy:
// Debian's /usr/bin/python3 (where python3-psycopg2 and python3-sqlalchemy
// install) first, then python3 on PATH.
func debianPython(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, py := range candidates {
		out, err := exec.Command(py, "-c", "import psycopg2, sqlalchemy; print(sqlalchemy.__version__)").Output()
		if err == nil {
			t.Logf("%s with SQLAlchemy %s", py, strings.TrimSpace(string(out)))
			return py
		}
	}
	t.Skip("no python3 with psycopg2 and SQLAlchemy (.ci/run installs python3-psycopg2 python3-sqlalchemy)")
	return ""
}

// TestPython runs the psycopg2 and SQLAlchemy 1.4 unittest modules in
// e2e/clients/python against a fresh node.
func TestPython(t *testing.T) {
	py := debianPython(t)
	dir, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	for _, module := range []string{"test_psycopg2", "test_sqlalchemy"} {
		t.Run(module, func(t *testing.T) {
			n := startNode(t)
			out, err := runTool(t, n.pgEnv(), 3*time.Minute, dir, py, "-m", "unittest", "-v", module)
			m := unittestSummary.FindStringSubmatch(out)
			if err != nil || m == nil || m[1] == "0" {
				t.Fatalf("python3 -m unittest %s: %v\n%s", module, err, out)
			}
			t.Logf("%s: %s tests passed", module, m[1])
		})
	}
}
