package clienttest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pgBinDir is where Debian's postgresql-15 package installs programs that
// are not on PATH (pgbench).
const pgBinDir = "/usr/lib/postgresql/15/bin"

// requireTool finds an external program on PATH or in pgBinDir and skips
// the test when it is not installed.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	path := filepath.Join(pgBinDir, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is not installed", name)
	}
	return path
}

// libpqEnv is the environment for a libpq program connecting to addr.
func libpqEnv(addr, db string) []string {
	host, port, _ := net.SplitHostPort(addr)
	return append(os.Environ(), "PGHOST="+host, "PGPORT="+port, "PGUSER=postgres", "PGDATABASE="+db,
		"PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10", "PGOPTIONS=", "PGTZ=UTC", "LC_ALL=C.UTF-8",
		"PSQLRC=/dev/null", "PAGER=")
}

// runTool runs a program with a deadline and returns stdout and stderr
// separately (psql writes notices to stderr).
func runTool(t testing.TB, env []string, timeout time.Duration, stdin string, name string, args ...string) (string, string, error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(c, name, args...)
	cmd.Env = env
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if c.Err() != nil {
		err = fmt.Errorf("%s timed out after %v: %w", name, timeout, c.Err())
	}
	return stdout.String(), stderr.String(), err
}
