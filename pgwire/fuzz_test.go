package pgwire

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// The fuzzers share one server per process. The engine's dangerous commands
// (panic, sleep) are disabled: any recovered panic is then a pgwire bug.
var (
	fuzzOnce sync.Once
	fuzzAddr string
	fuzzLogs *observer.ObservedLogs
)

func fuzzServer() string {
	fuzzOnce.Do(func() {
		core, logs := observer.New(zap.WarnLevel)
		srv, err := NewServer(Config{
			Engine: &fakeEngine{noDanger: true}, Logger: zap.New(core),
			MaxMessageBytes: 64 << 10, MaxPreparedStatements: 16, MaxPortals: 16,
		})
		if err != nil {
			panic(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		go func() { _ = srv.Serve(l) }()
		fuzzAddr, fuzzLogs = l.Addr().String(), logs
	})
	return fuzzAddr
}

func encodeMessages(msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			panic(err)
		}
	}
	return b
}

// exchange writes input, half-closes, and reads until the server closes.
// A server that neither answers nor closes within the deadline hangs.
func exchange(t *testing.T, nc net.Conn, input []byte) {
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	writeErr := make(chan error, 1)
	go func() {
		_, err := nc.Write(input)
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		writeErr <- err
	}()
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server neither answered nor closed within 5s (input %x)", input)
	}
	<-writeErr
}

func checkServerHealthy(t *testing.T, addr string) {
	if n := fuzzLogs.FilterMessageSnippet("panic").Len(); n > 0 {
		t.Fatalf("pgwire recovered a panic: %v", fuzzLogs.FilterMessageSnippet("panic").All()[0].Context)
	}
	c := dialRaw(t, addr)
	if m := c.startup(nil); m[len(m)-1]["Type"] != "ReadyForQuery" {
		t.Fatalf("server unhealthy: %v", m)
	}
	c.send(&pgproto3.Query{String: "series 1"})
	for {
		if typ, _ := c.receive(); typ == "ReadyForQuery" {
			return
		}
	}
}

// FuzzConnection feeds arbitrary bytes to an authenticated session: the
// server must never panic, never hang, and keep serving others.
func FuzzConnection(f *testing.F) {
	f.Add(encodeMessages(&pgproto3.Query{String: "series 3; nocols"}))
	f.Add(encodeMessages(&pgproto3.Parse{Name: "s", Query: "echo $1::int4 $2::_text"},
		&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1, 0}, Parameters: [][]byte{{0, 0, 0, 1}, []byte("{a,b}")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{}))
	f.Add(encodeMessages(&pgproto3.Query{String: "copy in"}, &pgproto3.CopyData{Data: []byte("a\n")}, &pgproto3.CopyDone{}))
	f.Add(encodeMessages(&pgproto3.Query{String: "copy in partial"}, &pgproto3.CopyData{Data: []byte("ab")}, &pgproto3.CopyFail{Message: "x"}))
	f.Add(encodeMessages(&pgproto3.Parse{Query: "series 5"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Execute{}, &pgproto3.Close{ObjectType: 'P'}, &pgproto3.Sync{}))
	f.Add(encodeMessages(&pgproto3.Query{String: "begin"}, &pgproto3.Query{String: "fail"}, &pgproto3.Query{String: "copy out 2"}, &pgproto3.Terminate{}))
	f.Add([]byte{'Q', 0, 0, 0, 4})
	f.Add([]byte{'B', 0xff, 0xff, 0xff, 0xff})
	addr := fuzzServer()
	f.Fuzz(func(t *testing.T, input []byte) {
		c := dialRaw(t, addr)
		if m := c.startup(nil); m[len(m)-1]["Type"] != "ReadyForQuery" {
			t.Fatalf("startup: %v", m)
		}
		exchange(t, c.nc, input)
		checkServerHealthy(t, addr)
	})
}

// FuzzStartup feeds arbitrary bytes from the first byte on.
func FuzzStartup(f *testing.F) {
	f.Add(encodeMessages(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}}))
	f.Add(encodeMessages(&pgproto3.SSLRequest{}, &pgproto3.StartupMessage{ProtocolVersion: 196610, Parameters: map[string]string{"user": "u", "_pq_.x": "y"}}))
	f.Add(encodeMessages(&pgproto3.GSSEncRequest{}))
	f.Add([]byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 1, 2, 3, 4})
	f.Add([]byte{0, 0, 0, 8, 0, 2, 0, 0})
	addr := fuzzServer()
	f.Fuzz(func(t *testing.T, input []byte) {
		nc, err := net.DialTimeout("tcp", addr, ioTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		exchange(t, nc, input)
		checkServerHealthy(t, addr)
	})
}
