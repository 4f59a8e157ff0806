package pgwire

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Benchmarks report ns/op and allocs/op for whole round trips (client,
// server and the fake engine together, all in this process). The yardstick
// is BenchmarkYardstickTCPEcho: the cost of one request/response on
// loopback with no protocol work at all; and, when CHR2_PG_DSN names a
// real PostgreSQL, the same raw client against it
// (BenchmarkPostgresSimpleQuery). Compare ratios, not absolute numbers.

// BenchmarkYardstickTCPEcho: write a 20-byte request, read a 20-byte reply.
func BenchmarkYardstickTCPEcho(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 20)
		for {
			if _, err := io.ReadFull(nc, buf); err != nil {
				return
			}
			if _, err := nc.Write(buf); err != nil {
				return
			}
		}
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	buf := make([]byte, 20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := nc.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(nc, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// untilReady reads backend messages through ReadyForQuery.
func untilReady(b *testing.B, fe *pgproto3.Frontend) {
	for {
		msg, err := fe.Receive()
		if err != nil {
			b.Fatal(err)
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			b.Fatalf("error: %s", m.Message)
		case *pgproto3.ReadyForQuery:
			return
		}
	}
}

func benchClient(b *testing.B, addr string, params map[string]string) *rawClient {
	c := dialRaw(b, addr)
	if m := c.startup(params); m[len(m)-1]["Type"] != "ReadyForQuery" {
		b.Fatalf("startup: %v", m)
	}
	_ = c.nc.SetDeadline(time.Time{}) // benchmarks may run longer than ioTimeout
	return c
}

func benchSimple(b *testing.B, c *rawClient, sql string) {
	q := &pgproto3.Query{String: sql}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.fe.Send(q)
		if err := c.fe.Flush(); err != nil {
			b.Fatal(err)
		}
		untilReady(b, c.fe)
	}
}

// BenchmarkSimpleQuery: one Query message returning one row.
func BenchmarkSimpleQuery(b *testing.B) {
	ts := startServer(b, nil)
	benchSimple(b, benchClient(b, ts.addr, nil), "series 1")
}

// BenchmarkPostgresSimpleQuery is the yardstick against a real server.
func BenchmarkPostgresSimpleQuery(b *testing.B) {
	dsn := os.Getenv("CHR2_PG_ADDR")
	if dsn == "" {
		b.Skip("set CHR2_PG_ADDR=host:port (trust auth, user postgres) to compare with PostgreSQL")
	}
	benchSimple(b, benchClient(b, dsn, map[string]string{"user": "postgres"}), "SELECT 1::int8")
}

// BenchmarkExtendedPrepared: Bind (one binary int4) / Execute / Sync on a
// prepared statement, binary result.
func BenchmarkExtendedPrepared(b *testing.B) {
	ts := startServer(b, nil)
	c := benchClient(b, ts.addr, nil)
	benchExtended(b, c, "echo $1::int4")
}

func BenchmarkPostgresExtendedPrepared(b *testing.B) {
	dsn := os.Getenv("CHR2_PG_ADDR")
	if dsn == "" {
		b.Skip("set CHR2_PG_ADDR=host:port to compare with PostgreSQL")
	}
	benchExtended(b, benchClient(b, dsn, map[string]string{"user": "postgres"}), "SELECT $1::int4")
}

func benchExtended(b *testing.B, c *rawClient, sql string) {
	c.send(&pgproto3.Parse{Name: "s", Query: sql, ParameterOIDs: []uint32{23}}, &pgproto3.Sync{})
	untilReady(b, c.fe)
	bind := &pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1},
		Parameters: [][]byte{{0, 0, 0, 7}}, ResultFormatCodes: []int16{1}}
	exec := &pgproto3.Execute{}
	sync := &pgproto3.Sync{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.fe.Send(bind)
		c.fe.Send(exec)
		c.fe.Send(sync)
		if err := c.fe.Flush(); err != nil {
			b.Fatal(err)
		}
		untilReady(b, c.fe)
	}
}

// BenchmarkPgxPrepared: what an application sees, pgx QueryRow with a
// parameter through the statement cache.
func BenchmarkPgxPrepared(b *testing.B) {
	ts := startServer(b, nil)
	conn := pgxConnect(b, ts.addr, "")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var v int32
		if err := conn.QueryRow(ctx, "echo $1::int4", int32(i)).Scan(&v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRows1000: one simple Query returning 1000 int8 rows; per-row
// cost is ns/op / 1000.
func BenchmarkRows1000(b *testing.B) {
	ts := startServer(b, nil)
	benchSimple(b, benchClient(b, ts.addr, nil), "series 1000")
}
