package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/internal/testnet"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chr2sql-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "chr2sql")
	build := exec.Command("go", "build", "-o", binary, "../cmd/chr2sql")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build chr2sql:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := testnet.LoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// node is one chr2sql process.
type node struct {
	t        *testing.T
	id       uint64
	dataDir  string
	pgAddr   string
	raftAddr string
	httpAddr string
	peers    string
	extra    []string
	cmd      *exec.Cmd
	logPath  string
	exited   chan struct{}
}

func newNode(t *testing.T, id uint64) *node {
	return &node{t: t, id: id, dataDir: t.TempDir(), pgAddr: freeAddr(t), raftAddr: freeAddr(t), httpAddr: freeAddr(t),
		logPath: filepath.Join(t.TempDir(), fmt.Sprintf("node%d.log", id))}
}

// start launches the process (again, after a kill, on the same data dir).
func (n *node) start() {
	n.t.Helper()
	args := []string{"start", "--data-dir", n.dataDir, "--node-id", strconv.FormatUint(n.id, 10),
		"--pg-addr", n.pgAddr, "--raft-addr", n.raftAddr, "--http-addr", n.httpAddr, "--raft-tick", "50ms"}
	if n.peers != "" {
		args = append(args, "--peers", n.peers)
	}
	args = append(args, n.extra...)
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.cmd = cmd
	n.exited = make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(n.exited) }()
	n.t.Cleanup(func() { n.kill() })
}

// kill sends SIGKILL and waits for the process to be gone.
func (n *node) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
	n.cmd = nil
}

// log returns the node's output so far (for failure messages).
func (n *node) log() string {
	b, _ := os.ReadFile(n.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// waitReady waits until GET /readyz answers 200.
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
			n.t.Fatalf("node %d exited while starting:\n%s", n.id, n.log())
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("node %d not ready after %v:\n%s", n.id, timeout, n.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// psql runs the real psql with the given -c commands and returns stdout.
func (n *node) psql(cmds ...string) (string, error) {
	host, port, _ := net.SplitHostPort(n.pgAddr)
	args := []string{"-h", host, "-p", port, "-U", "postgres", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	out, err := exec.Command("psql", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (n *node) mustPSQL(cmds ...string) string {
	n.t.Helper()
	out, err := n.psql(cmds...)
	if err != nil {
		n.t.Fatalf("psql %q: %v\n%s", cmds, err, out)
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// delivery is one HTTP request a sink received.
type delivery struct {
	ID, Timestamp, Signature, Token, Attempt, OrderingKey, IdempotencyKey, ContentType string
	Body                                                                               string
}

// sink is a real HTTP webhook sink that records every request verbatim.
type sink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []delivery
	status func(delivery) int // nil: 200
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
			Signature: r.Header.Get("webhook-signature"), Token: r.Header.Get("Chr2-Fencing-Token"),
			Attempt: r.Header.Get("Chr2-Attempt"), OrderingKey: r.Header.Get("Chr2-Ordering-Key"),
			IdempotencyKey: r.Header.Get("Idempotency-Key"), ContentType: r.Header.Get("Content-Type"), Body: string(body)}
		s.mu.Lock()
		s.got = append(s.got, d)
		status := s.status
		s.mu.Unlock()
		code := http.StatusOK
		if status != nil {
			code = status(d)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.got...)
}

// count returns how many requests carried effect id.
func (s *sink) count(id string) int {
	n := 0
	for _, d := range s.deliveries() {
		if d.ID == id {
			n++
		}
	}
	return n
}

// verifySignature checks a Standard Webhooks v1 signature.
func verifySignature(secret string, d delivery) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(d.ID + "." + d.Timestamp + "." + d.Body))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(d.Signature) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

var _ = context.Background
