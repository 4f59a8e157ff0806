package clients

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/internal/testnet"
	"github.com/jackc/pgx/v5"
)

// binary is the chr2sql executable built once by TestMain.
var binary string

// binaryEnv names a prebuilt chr2sql to test instead of building one from
// the working tree.
const binaryEnv = "CHR2_CLIENTS_BINARY"

// repoRoot is the module root, two levels up from this package.
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	dir, err := os.MkdirTemp("", "chr2sql-clients")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if os.Getenv(targetEnv) != "" {
		return m.Run() // no chr2sql: every test runs on the reference server
	}
	if prebuilt := os.Getenv(binaryEnv); prebuilt != "" {
		binary = prebuilt
		return m.Run()
	}
	binary = filepath.Join(dir, "chr2sql")
	build := exec.Command("go", "build", "-o", binary, "./cmd/chr2sql")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build chr2sql:", err)
		return 1
	}
	return m.Run()
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	addr, err := testnet.LoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// node is one single-node chr2sql process owned by a test.
type node struct {
	t        testing.TB
	db       string // database name; "postgres" on chr2sql
	dataDir  string
	pgAddr   string
	httpAddr string
	logPath  string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// startNode launches a fresh node and waits until it is ready.
func startNode(t testing.TB) *node {
	t.Helper()
	if targetURL := os.Getenv(targetEnv); targetURL != "" {
		return referenceNode(t, targetURL)
	}
	n := &node{t: t, db: "postgres", dataDir: t.TempDir(), pgAddr: freeAddr(t), httpAddr: freeAddr(t)}
	n.logPath = filepath.Join(t.TempDir(), "node.log")
	logf, err := os.Create(n.logPath)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(binary, "start", "--data-dir", n.dataDir, "--node-id", "1",
		"--pg-addr", n.pgAddr, "--raft-addr", freeAddr(t), "--http-addr", n.httpAddr, "--raft-tick", "50ms")
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan struct{})
	go func() { n.cmd.Wait(); logf.Close(); close(n.exited) }()
	t.Cleanup(n.stop)
	n.waitReady(30 * time.Second)
	return n
}

func (n *node) stop() {
	if n.cmd != nil && n.cmd.Process != nil {
		n.cmd.Process.Kill()
		<-n.exited
	}
}

// log returns the tail of the node's output for failure messages.
func (n *node) log() string {
	if n.logPath == "" {
		return ""
	}
	b, _ := os.ReadFile(n.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// targetEnv names a real PostgreSQL server to run the same tests against
// instead of chr2sql (for checking that the tests assert PostgreSQL's
// behaviour), e.g. postgres://postgres@127.0.0.1:5499/postgres. Each test
// then gets a database of its own there.
const targetEnv = "CHR2_CLIENTS_TARGET_URL"

var unsafeDBChars = regexp.MustCompile(`[^a-z0-9_]+`)

// referenceNode creates a fresh database on the reference server.
func referenceNode(t testing.TB, adminURL string) *node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("reference server: %v", err)
	}
	defer admin.Close(context.Background())
	db := unsafeDBChars.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(db) > 60 {
		db = db[:60]
	}
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	cfg := admin.Config()
	return &node{t: t, db: db, pgAddr: net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))}
}

func (n *node) waitReady(timeout time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get("http://" + n.httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-n.exited:
			n.t.Fatalf("chr2sql exited while starting:\n%s", n.log())
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("chr2sql not ready after %v:\n%s", timeout, n.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hostPort splits the node's PostgreSQL address.
func (n *node) hostPort() (string, string) {
	host, port, _ := net.SplitHostPort(n.pgAddr)
	return host, port
}

// url is the connection string every client gets; nothing else changes.
func (n *node) url() string {
	return "postgres://postgres@" + n.pgAddr + "/" + n.db + "?sslmode=disable"
}

// pgEnv is the libpq environment for external programs (psql, pgbench,
// node-postgres, psycopg2).
func (n *node) pgEnv() []string {
	host, port := n.hostPort()
	return append(os.Environ(), "PGHOST="+host, "PGPORT="+port, "PGUSER=postgres", "PGDATABASE="+n.db,
		"PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10", "DATABASE_URL="+n.url())
}

// connect opens a pgx connection with a per-test deadline.
func (n *node) connect(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, n.url())
	if err != nil {
		t.Fatalf("pgx connect: %v\n%s", err, n.log())
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// exec runs statements on a fresh pgx connection and fails the test on error.
func (n *node) exec(t testing.TB, stmts ...string) {
	t.Helper()
	conn := n.connect(t)
	for _, s := range stmts {
		if _, err := conn.Exec(testCtx(t), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// testCtx is a context bounded by a generous per-call deadline.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// requireTool skips the test when an external program is not installed.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it): %v", name, err)
	}
	return path
}

// runTool runs an external program with a deadline in dir with env (nil:
// this process's environment) and returns its combined output.
func runTool(t testing.TB, env []string, timeout time.Duration, dir string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %v: %w", name, timeout, ctx.Err())
	}
	return string(out), err
}

// sqlStateOf extracts the SQLSTATE of a pgx or lib/pq error ("" if none).
func sqlStateOf(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}
