package pgwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func expectFatal(t *testing.T, c *rawClient, code string) {
	t.Helper()
	typ, m := c.receive()
	if typ != "ErrorResponse" || m["Severity"] != "FATAL" || m["Code"] != code {
		t.Fatalf("got %s %v, want FATAL %s", typ, m, code)
	}
	c.expectClosed()
}

// TestCloseTerminatesSessions: Close tells idle and busy sessions FATAL
// 57P01, cancels running statements through their context, and returns
// once every connection is gone; Serve returns ErrServerClosed.
func TestCloseTerminatesSessions(t *testing.T) {
	ts := startServer(t, nil)
	idle := dialRaw(t, ts.addr)
	idle.startup(nil)
	busy := dialRaw(t, ts.addr)
	busy.startup(nil)
	busy.send(&pgproto3.Query{String: "sleep"})
	waitFor(t, ts.eng.runningSession)
	closed := make(chan error, 1)
	go func() { closed <- ts.srv.Close() }()
	expectFatal(t, idle, "57P01")
	expectFatal(t, busy, "57P01")
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Close did not return")
	}
	for _, s := range ts.eng.allSessions() {
		if !s.closed.Load() {
			t.Error("a session was not closed")
		}
	}
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Error("still accepting after Close")
	}
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxConnections = 2 })
	a := pgxConnect(t, ts.addr, "")
	pgxConnect(t, ts.addr, "")
	c := dialRaw(t, ts.addr)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "x"}})
	typ, m := c.receive()
	if typ != "ErrorResponse" || m["Code"] != "53300" || m["Message"] != "sorry, too many clients already" || m["Severity"] != "FATAL" {
		t.Fatalf("got %s %v", typ, m)
	}
	c.expectClosed()
	// A CancelRequest is still served while the server is full.
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { _, err := a.Exec(ctx, "sleep"); done <- err }()
	waitFor(t, ts.eng.runningSession)
	cancel()
	var pe *pgconn.PgError
	if err := <-done; !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("cancel at the limit: %v", err)
	}
	// Closing one frees its slot.
	_ = a.Close(context.Background())
	waitFor(t, func() *struct{} {
		if err := tryConnect(ts.addr, "u", ""); err == nil {
			return &struct{}{}
		}
		return nil
	})
	if got := metricValue(t, ts.srv.m.Rejected.WithLabelValues(rejectTooMany)); got < 1 {
		t.Errorf("rejections not counted: %v", got)
	}
}

// TestPanicIsolated: a panic in the engine ends that connection with FATAL
// XX000 and nothing else; other sessions go on.
func TestPanicIsolated(t *testing.T) {
	ts := startServer(t, nil)
	ts.allowPanics = true
	other := pgxConnect(t, ts.addr, "")
	c := dialRaw(t, ts.addr)
	c.startup(nil)
	c.send(&pgproto3.Query{String: "panic"})
	typ, m := c.receive()
	if typ != "ErrorResponse" || m["Code"] != "XX000" || m["Severity"] != "FATAL" || m["Message"] != "internal error" {
		t.Fatalf("got %s %v", typ, m)
	}
	c.expectClosed()
	var n int64
	if err := other.QueryRow(testCtx(t), "series 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("other session: %d %v", n, err)
	}
	if ts.logs.FilterMessageSnippet("panic").Len() != 1 {
		t.Errorf("panic not logged once: %d", ts.logs.FilterMessageSnippet("panic").Len())
	}
}

// TestSlowReaderIsBounded: a client that stops reading stalls its own
// statement (WriteRow blocks) instead of making the server buffer the
// result; with WriteTimeout it is disconnected.
func TestSlowReaderIsBounded(t *testing.T) {
	const rows = 200_000 // 200 MiB of result if it were all buffered
	for _, timeout := range []time.Duration{0, 200 * time.Millisecond} {
		ts := startServer(t, func(c *Config) { c.WriteTimeout = timeout })
		c := dialRaw(t, ts.addr)
		c.startup(nil)
		c.send(&pgproto3.Query{String: "wide 200000"})
		// Wait until the count stops moving: the writer is blocked.
		last, still := int64(-1), 0
		waitFor(t, func() *struct{} {
			n := ts.eng.rowsWritten.Load()
			if n == last && n > 0 {
				still++
			} else {
				still = 0
			}
			last = n
			if still > 100 { // ~200ms without progress
				return &struct{}{}
			}
			return nil
		})
		if last >= rows/2 {
			t.Fatalf("timeout %v: %d rows written to a client that reads nothing", timeout, last)
		}
		t.Logf("timeout %v: writer blocked after %d rows (~%d MiB)", timeout, last, last>>10)
		if timeout > 0 {
			// The stuck client is cut off and its session released.
			waitFor(t, func() *struct{} {
				if s := ts.eng.lastSession(); s != nil && s.closed.Load() {
					return &struct{}{}
				}
				return nil
			})
		}
		_ = c.nc.Close()
	}
}

func TestNewSessionErrors(t *testing.T) {
	ts := startServer(t, nil)
	ts.eng.newSessionErr = pgerr.New(pgerr.InvalidCatalogName, "database \"nope\" does not exist")
	c := dialRaw(t, ts.addr)
	msgs := c.startup(nil)
	last := msgs[len(msgs)-1]
	if last["Code"] != "3D000" || last["Severity"] != "FATAL" || last["Message"] != "database \"nope\" does not exist" {
		t.Fatalf("got %v", last)
	}
	c.expectClosed()
	ts.eng.newSessionErr = errors.New("disk on fire at /var/lib/x")
	c = dialRaw(t, ts.addr)
	msgs = c.startup(nil)
	last = msgs[len(msgs)-1]
	if last["Code"] != "XX000" || strings.Contains(last["Message"].(string), "fire") {
		t.Fatalf("got %v", last)
	}
	c.expectClosed()
}

// TestDisconnectReleasesSession: a client that vanishes mid-cycle has its
// portals and session closed.
func TestDisconnectReleasesSession(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts.addr)
	c.startup(nil)
	c.send(&pgproto3.Query{String: "begin"}, &pgproto3.Parse{Name: "s", Query: "series 5"},
		&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s"}, &pgproto3.Execute{Portal: "p", MaxRows: 1}, &pgproto3.Flush{})
	for {
		if typ, _ := c.receive(); typ == "PortalSuspended" {
			break
		}
	}
	sess := ts.eng.lastSession()
	_ = c.nc.Close()
	waitFor(t, func() *struct{} {
		if sess.closed.Load() {
			return &struct{}{}
		}
		return nil
	})
}

func selfSignedTLS(t *testing.T) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

func TestTLS(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.TLSConfig = selfSignedTLS(t)
		c.Auth = AuthConfig{Method: AuthScramSHA256, Users: map[string]string{"alice": "secret"}}
	})
	ctx := testCtx(t)
	conn, err := pgconn.Connect(ctx, "postgres://alice:secret@"+ts.addr+"/db?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "series 3").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if !ts.eng.lastSession().info.TLS {
		t.Error("session does not know it is on TLS")
	}
}

func TestListenAndServe(t *testing.T) {
	srv, err := NewServer(Config{Engine: &fakeEngine{}, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	select {
	case <-srv.Ready():
	case <-time.After(ioTimeout):
		t.Fatal("not listening")
	}
	if err := tryConnect(srv.Addr().String(), "u", ""); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("ListenAndServe returned %v", err)
	}
	if err := srv.Serve(nil); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, func(c *Config) { c.Metrics = NewMetrics(reg) })
	conn := pgxConnect(t, ts.addr, "")
	_, _ = conn.Exec(testCtx(t), "error 23505 dup")
	_, _ = conn.Exec(testCtx(t), "series 1")
	m := ts.srv.m
	if got := metricValue(t, m.Errors.WithLabelValues("23")); got != 1 {
		t.Errorf("errors{class=23} = %v", got)
	}
	if got := metricValue(t, m.ConnectionsActive); got != 1 {
		t.Errorf("active = %v", got)
	}
	if got := metricValue(t, m.Messages.WithLabelValues("Q")); got != 2 {
		t.Errorf("Query messages = %v, want 2", got)
	}
	if mfs, err := reg.Gather(); err != nil || len(mfs) == 0 {
		t.Errorf("registry: %d families, %v", len(mfs), err)
	}
}

func metricValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	t.Fatal("not a counter or gauge")
	return 0
}
