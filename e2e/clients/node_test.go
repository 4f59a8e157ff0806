package clients

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var nodeSummary = regexp.MustCompile(`(?m)^# pass (\d+)\n# fail (\d+)`)

// TestNodePostgres runs e2e/clients/node/pg.test.js (node's built-in test
// runner) with node-postgres against a fresh node. The npm dependencies are
// installed from package-lock.json with `npm ci` when missing.
func TestNodePostgres(t *testing.T) {
	nodeJS := requireTool(t, "node")
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "pg")); err != nil {
		npm := requireTool(t, "npm")
		if out, err := runTool(t, nil, 5*time.Minute, dir, npm, "ci", "--no-audit", "--no-fund"); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	n := startNode(t)
	out, err := runTool(t, n.pgEnv(), 3*time.Minute, dir, nodeJS, "--test", "pg.test.js")
	m := nodeSummary.FindStringSubmatch(out)
	if err != nil || m == nil || m[2] != "0" || m[1] == "0" {
		t.Fatalf("node --test pg.test.js: %v\n%s", err, out)
	}
	t.Logf("node-postgres: %s tests passed", m[1])
}
