package pgwire

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

const ioTimeout = 10 * time.Second

type testServer struct {
	srv  *Server
	eng  *fakeEngine
	addr string
	logs *observer.ObservedLogs
	// allowPanics: the test provokes a panic on purpose.
	allowPanics bool
}

// startServer runs a Server with a fakeEngine on a loopback port. At
// cleanup it closes the server and fails the test if a panic was logged
// that the test did not expect.
func startServer(t testing.TB, mutate func(*Config)) *testServer {
	t.Helper()
	eng := &fakeEngine{}
	core, logs := observer.New(zap.DebugLevel)
	cfg := Config{Engine: eng, Logger: zap.New(core)}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, eng: eng, addr: l.Addr().String(), logs: logs}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if n := logs.FilterMessageSnippet("panic").Len(); n > 0 && !ts.allowPanics {
			t.Errorf("%d panics were recovered: %v", n, logs.FilterMessageSnippet("panic").All()[0].Context)
		}
	})
	return ts
}

// rawClient speaks the protocol message by message.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *rawClient) sendRaw(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("send raw: %v", err)
	}
}

// receive returns the next backend message as JSON (messages are only
// valid until the next Receive, JSON is not).
func (c *rawClient) receive() (string, map[string]any) {
	c.t.Helper()
	return c.receiveAt("")
}

func (c *rawClient) receiveAt(where string) (string, map[string]any) {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	msg, err := c.fe.Receive()
	if err != nil {
		c.t.Fatalf("%s receive: %v", where, err)
	}
	return messageJSON(c.t, msg)
}

func messageJSON(t testing.TB, msg pgproto3.BackendMessage) (string, map[string]any) {
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(msg).Elem().Name()
	m["Type"] = typ
	return typ, m
}

// expectClosed waits for the server to close the connection.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatal("connection still open")
			}
			return
		}
		_, m := messageJSON(c.t, msg)
		c.t.Fatalf("expected the connection to close, got %v", m)
	}
}

// startup sends a StartupMessage and reads through the first
// ReadyForQuery, returning the messages.
func (c *rawClient) startup(params map[string]string) []map[string]any {
	c.t.Helper()
	if params == nil {
		params = map[string]string{"user": "alice", "database": "db"}
	}
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: params})
	var out []map[string]any
	for {
		typ, m := c.receive()
		out = append(out, m)
		if typ == "ReadyForQuery" || typ == "ErrorResponse" {
			return out
		}
	}
}

// frontendTypes builds frontend messages by name for scenario files.
var frontendTypes = map[string]func() pgproto3.FrontendMessage{
	"Query":     func() pgproto3.FrontendMessage { return &pgproto3.Query{} },
	"Parse":     func() pgproto3.FrontendMessage { return &pgproto3.Parse{} },
	"Bind":      func() pgproto3.FrontendMessage { return &pgproto3.Bind{} },
	"Describe":  func() pgproto3.FrontendMessage { return &pgproto3.Describe{} },
	"Execute":   func() pgproto3.FrontendMessage { return &pgproto3.Execute{} },
	"Close":     func() pgproto3.FrontendMessage { return &pgproto3.Close{} },
	"Sync":      func() pgproto3.FrontendMessage { return &pgproto3.Sync{} },
	"Flush":     func() pgproto3.FrontendMessage { return &pgproto3.Flush{} },
	"Terminate": func() pgproto3.FrontendMessage { return &pgproto3.Terminate{} },
	"CopyData":  func() pgproto3.FrontendMessage { return &pgproto3.CopyData{} },
	"CopyDone":  func() pgproto3.FrontendMessage { return &pgproto3.CopyDone{} },
	"CopyFail":  func() pgproto3.FrontendMessage { return &pgproto3.CopyFail{} },
	"FunctionCall": func() pgproto3.FrontendMessage {
		return &pgproto3.FunctionCall{}
	},
	"Startup": func() pgproto3.FrontendMessage {
		return &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30}
	},
	"SSLRequest":    func() pgproto3.FrontendMessage { return &pgproto3.SSLRequest{} },
	"GSSEncRequest": func() pgproto3.FrontendMessage { return &pgproto3.GSSEncRequest{} },
}

// subset reports whether every field of want is in got with an equal
// value (objects recursively; arrays element-wise with equal length).
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			if !subset(wv, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}

// runScenario executes one testdata/scenarios file. Lines:
//
//	# comment
//	config Field=value            server setting, before any traffic
//	startup                       run the startup handshake (default: implicit)
//	> Type {json}                 send a frontend message (consecutive sends are pipelined)
//	>raw hex                      send raw bytes
//	< Type {json subset}          expect the next backend message
//	<raw hex                      expect these raw bytes (only before any '<' message)
//	<closed                       expect the server to close the connection
//	nostartup                     (first directive) do not run the startup handshake
//	reconnect [nostartup]         drop this connection, open a new one, run startup
//	<engine copied "text"         the engine received this COPY data
func runScenario(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var mutate []func(*Config)
	i := 0
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if !strings.HasPrefix(l, "config ") {
			break
		}
		mutate = append(mutate, configSetter(t, strings.TrimPrefix(l, "config ")))
	}
	ts := startServer(t, func(c *Config) {
		for _, m := range mutate {
			m(c)
		}
	})
	run := &scenarioRun{t: t, ts: ts, c: dialRaw(t, ts.addr), lines: lines}
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		run.step(fmt.Sprintf("%s:%d", filepath.Base(path), i+1), l, i)
	}
}

type scenarioRun struct {
	t       *testing.T
	ts      *testServer
	c       *rawClient
	lines   []string
	started bool
}

// step executes one directive (see runScenario).
func (r *scenarioRun) step(where, l string, i int) {
	t := r.t
	if l == "nostartup" {
		r.started = true
		return
	}
	if !r.started {
		r.started = true
		r.startup(where)
	}
	switch {
	case strings.HasPrefix(l, ">raw "):
		b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimPrefix(l, ">raw "), " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		r.c.sendRaw(b)
	case strings.HasPrefix(l, "> "):
		r.c.fe.Send(parseFrontend(t, where, strings.TrimPrefix(l, "> ")))
		if next := nextDirective(r.lines, i+1); !strings.HasPrefix(next, "> ") {
			if err := r.c.fe.Flush(); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		}
	case strings.HasPrefix(l, "< "):
		r.expectMessage(where, strings.TrimPrefix(l, "< "))
	case l == "<closed":
		r.c.expectClosed()
	case strings.HasPrefix(l, "<raw "):
		want := strings.ReplaceAll(strings.TrimPrefix(l, "<raw "), " ", "")
		got := make([]byte, len(want)/2)
		_ = r.c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
		if _, err := io.ReadFull(r.c.nc, got); err != nil || hex.EncodeToString(got) != want {
			t.Fatalf("%s: want raw %s, got %x (%v)", where, want, got, err)
		}
	case l == "reconnect" || l == "reconnect nostartup":
		_ = r.c.nc.Close()
		r.c = dialRaw(t, r.ts.addr)
		if l == "reconnect" {
			r.startup(where)
		}
	case strings.HasPrefix(l, "<engine copied "):
		r.expectCopied(where, strings.TrimPrefix(l, "<engine copied "))
	default:
		t.Fatalf("%s: cannot read %q", where, l)
	}
}

func (r *scenarioRun) startup(where string) {
	if m := r.c.startup(nil); m[len(m)-1]["Type"] != "ReadyForQuery" {
		r.t.Fatalf("%s: startup failed: %v", where, m)
	}
}

func (r *scenarioRun) expectMessage(where, spec string) {
	typ, body, _ := strings.Cut(spec, " ")
	gotType, got := r.c.receiveAt(where)
	want := map[string]any{}
	if body != "" {
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			r.t.Fatalf("%s: bad JSON: %v", where, err)
		}
	}
	if gotType != typ || !subset(want, got) {
		r.t.Fatalf("%s: want %s %s\n got %v", where, typ, body, got)
	}
}

func (r *scenarioRun) expectCopied(where, quoted string) {
	want, err := strconv.Unquote(quoted)
	if err != nil {
		r.t.Fatalf("%s: %v", where, err)
	}
	r.ts.eng.mu.Lock()
	got := strings.Join(r.ts.eng.copied, "|")
	r.ts.eng.mu.Unlock()
	if got != want {
		r.t.Fatalf("%s: engine copied %q, want %q", where, got, want)
	}
}

func nextDirective(lines []string, from int) string {
	for ; from < len(lines); from++ {
		if l := strings.TrimSpace(lines[from]); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

func parseFrontend(t *testing.T, where, s string) pgproto3.FrontendMessage {
	typ, body, _ := strings.Cut(s, " ")
	mk, ok := frontendTypes[typ]
	if !ok {
		t.Fatalf("%s: unknown frontend message %q", where, typ)
	}
	msg := mk()
	if body != "" {
		if err := json.Unmarshal([]byte(body), msg); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	}
	return msg
}

func configSetter(t *testing.T, kv string) func(*Config) {
	k, v, _ := strings.Cut(kv, "=")
	n, err := strconv.Atoi(v)
	return func(c *Config) {
		switch k {
		case "MaxMessageBytes":
			c.MaxMessageBytes = n
		case "MaxPreparedStatements":
			c.MaxPreparedStatements = n
		case "MaxPortals":
			c.MaxPortals = n
		default:
			t.Fatalf("unknown config %q (%v)", k, err)
		}
	}
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			runScenario(t, f)
		})
	}
}
