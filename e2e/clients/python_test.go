package clients

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var unittestSummary = regexp.MustCompile(`(?m)^Ran (\d+) tests? in [0-9.]+s\s*\n\s*\nOK(?: \(skipped=\d+\))?\s*$`)

// sqlalchemy2Env names a directory holding SQLAlchemy 2 (and a
// typing_extensions it accepts) for PYTHONPATH. Debian 12 packages only
// SQLAlchemy 1.4; .ci/run unpacks Debian 13's python3-sqlalchemy 2.0 there
// (pure Python, it runs on Debian 12's python3.11).
const sqlalchemy2Env = "CHR2_SQLALCHEMY2_PATH"

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

// TestPython runs the psycopg2 and SQLAlchemy unittest modules in
// e2e/clients/python against a fresh node: SQLAlchemy with Debian 12's 1.4,
// and again with 2.0 when sqlalchemy2Env names it.
func TestPython(t *testing.T) {
	py := debianPython(t)
	dir, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, module string, extraEnv ...string) {
		n := startNode(t)
		out, err := runTool(t, append(n.pgEnv(), extraEnv...), 3*time.Minute, dir, py, "-m", "unittest", "-v", module)
		m := unittestSummary.FindStringSubmatch(out)
		if err != nil || m == nil || m[1] == "0" {
			t.Fatalf("python3 -m unittest %s: %v\n%s", module, err, out)
		}
		t.Logf("%s: %s tests ran\n%s", module, m[1], out)
	}
	t.Run("test_psycopg2", func(t *testing.T) { run(t, "test_psycopg2") })
	t.Run("test_sqlalchemy", func(t *testing.T) { run(t, "test_sqlalchemy") })
	t.Run("test_sqlalchemy2", func(t *testing.T) {
		path := os.Getenv(sqlalchemy2Env)
		if path == "" {
			t.Skipf("%s is not set (.ci/run provides SQLAlchemy 2 from Debian 13)", sqlalchemy2Env)
		}
		env := "PYTHONPATH=" + path
		cmd := exec.Command(py, "-c", "import sqlalchemy; print(sqlalchemy.__version__)")
		cmd.Env = append(os.Environ(), env)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "2.") {
			t.Fatalf("%s=%s does not provide SQLAlchemy 2: %s %v", sqlalchemy2Env, path, out, err)
		}
		t.Logf("SQLAlchemy %s from %s", strings.TrimSpace(string(out)), path)
		run(t, "test_sqlalchemy", env)
	})
}
