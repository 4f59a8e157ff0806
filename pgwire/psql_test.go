package pgwire

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
)

// runPsql runs the real psql client against addr; it skips the test when
// psql is not installed.
func runPsql(t *testing.T, addr, stdin string, env []string, args ...string) (string, string, error) {
	t.Helper()
	bin, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed; skipping the real-client test")
	}
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	base := []string{"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", "alice", "-d", "db"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append([]string{"PGCONNECT_TIMEOUT=10", "LANG=C.UTF-8"}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func TestPsqlSimpleQuery(t *testing.T) {
	ts := startServer(t, nil)
	out, errOut, err := runPsql(t, ts.addr, "", nil, "-c", "series 3")
	if err != nil || out != "1\n2\n3\n" {
		t.Fatalf("out %q err %v stderr %q", out, err, errOut)
	}
	// Every common type in text format, exactly as PostgreSQL prints them.
	out, errOut, err = runPsql(t, ts.addr, "", nil, "-c", "types")
	want := `t|-2|40000|1099511627776|1.5|0.1|héllo|\xdead|12345.678|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|2024-02-29|` +
		`2024-01-02 03:04:05.123456|2024-01-02 03:04:05+00|{"b": 1}|{"a": [1, 2]}|{1,NULL,3}|{"x y",z}|1 day 02:03:04|10:11:12.5|` + "\n"
	if err != nil || out != want {
		t.Fatalf("types:\n got %q\nwant %q\nerr %v %s", out, want, err, errOut)
	}
	// Transactions across -c commands, and an error stopping the script.
	out, errOut, err = runPsql(t, ts.addr, "", nil, "-c", "begin", "-c", "series 1", "-c", "commit", "-c", "error 22012 boom", "-c", "series 2")
	if err == nil || !strings.Contains(errOut, "ERROR:  boom") || out != "BEGIN\n1\nCOMMIT\n" {
		t.Fatalf("out %q err %v stderr %q", out, err, errOut)
	}
}

func TestPsqlCopy(t *testing.T) {
	ts := startServer(t, nil)
	data := "alpha\nbeta\ngamma\n"
	out, errOut, err := runPsql(t, ts.addr, data, nil, "-c", "copy in from stdin")
	if err != nil || strings.TrimSpace(out) != "COPY 3" {
		t.Fatalf("copy in: out %q err %v stderr %q", out, err, errOut)
	}
	ts.eng.mu.Lock()
	got := strings.Join(ts.eng.copied, "")
	ts.eng.mu.Unlock()
	if got != data {
		t.Fatalf("engine received %q", got)
	}
	out, errOut, err = runPsql(t, ts.addr, "", nil, "-c", "copy out 3")
	if err != nil || out != "line 1\nline 2\nline 3\n" {
		t.Fatalf("copy out: out %q err %v stderr %q", out, err, errOut)
	}
}

func TestPsqlScramAuth(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Auth = AuthConfig{Method: AuthScramSHA256, Users: map[string]string{"alice": "pa55"}}
	})
	out, errOut, err := runPsql(t, ts.addr, "", []string{"PGPASSWORD=pa55"}, "-c", "series 1")
	if err != nil || out != "1\n" {
		t.Fatalf("out %q err %v stderr %q", out, err, errOut)
	}
	_, errOut, err = runPsql(t, ts.addr, "", []string{"PGPASSWORD=nope"}, "-c", "series 1")
	if err == nil || !strings.Contains(errOut, `password authentication failed for user "alice"`) {
		t.Fatalf("wrong password: err %v stderr %q", err, errOut)
	}
}
