package pgwire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgtype"
)

func connString(addr, extra string) string {
	return fmt.Sprintf("postgres://alice:secret@%s/db?sslmode=disable&connect_timeout=10%s", addr, extra)
}

func pgxConnect(t testing.TB, addr, extra string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(connString(addr, extra))
	if err != nil {
		t.Fatal(err)
	}
	// Cancel through a CancelRequest (not by cutting the socket), so a
	// cancelled context yields the server's 57014.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, CancelRequestDelay: 0, DeadlineDelay: 5 * time.Second}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type typesResult struct {
	b    bool
	i2   int16
	i4   int32
	i8   int64
	f4   float32
	f8   float64
	t    string
	by   []byte
	n    pgtype.Numeric
	u    pgtype.UUID
	d    time.Time
	ts   time.Time
	tz   time.Time
	j    map[string]any
	jb   map[string]any
	ai   []*int32
	at   []string
	iv   pgtype.Interval
	tm   pgtype.Time
	null *string
}

func scanTypes(t *testing.T, ctx context.Context, conn *pgx.Conn, mode pgx.QueryExecMode) typesResult {
	t.Helper()
	var r typesResult
	err := conn.QueryRow(ctx, "types", mode).Scan(&r.b, &r.i2, &r.i4, &r.i8, &r.f4, &r.f8, &r.t, &r.by, &r.n, &r.u,
		&r.d, &r.ts, &r.tz, &r.j, &r.jb, &r.ai, &r.at, &r.iv, &r.tm, &r.null)
	if err != nil {
		t.Fatalf("mode %v: %v", mode, err)
	}
	return r
}

// TestPgxResultTypes reads every common type with pgx in binary (the
// default, prepared) and in text (simple protocol) and checks the values.
func TestPgxResultTypes(t *testing.T) {
	ts := startServer(t, nil)
	conn := pgxConnect(t, ts.addr, "")
	ctx := testCtx(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
		r := scanTypes(t, ctx, conn, mode)
		i1, i3 := int32(1), int32(3)
		wantNum := pgtype.Numeric{Int: big.NewInt(12345678), Exp: -3, Valid: true}
		checks := []struct {
			name      string
			got, want any
		}{
			{"bool", r.b, true}, {"int2", r.i2, int16(-2)}, {"int4", r.i4, int32(40000)}, {"int8", r.i8, int64(1) << 40},
			{"float4", r.f4, float32(1.5)}, {"float8", r.f8, 0.1}, {"text", r.t, "héllo"}, {"bytea", r.by, []byte{0xde, 0xad}},
			{"numeric", r.n.Int.String() + "e" + fmt.Sprint(r.n.Exp), wantNum.Int.String() + "e" + fmt.Sprint(wantNum.Exp)},
			{"uuid", fmt.Sprintf("%x", r.u.Bytes), "a0eebc999c0b4ef8bb6d6bb9bd380a11"},
			{"date", r.d.Format("2006-01-02"), "2024-02-29"},
			{"timestamp", r.ts.Format(time.RFC3339Nano), "2024-01-02T03:04:05.123456Z"},
			{"timestamptz", r.tz.UTC().Format(time.RFC3339Nano), "2024-01-02T03:04:05Z"},
			{"json", r.j["b"], float64(1)}, {"jsonb", fmt.Sprint(r.jb["a"]), "[1 2]"},
			{"int4[]", fmt.Sprint(*r.ai[0], r.ai[1] == nil, *r.ai[2]), fmt.Sprint(i1, true, i3)},
			{"text[]", strings.Join(r.at, "|"), "x y|z"},
			{"interval", r.iv, pgtype.Interval{Days: 1, Microseconds: (2*3600 + 3*60 + 4) * 1e6, Valid: true}},
			{"time", r.tm, pgtype.Time{Microseconds: (10*3600+11*60+12)*1e6 + 500000, Valid: true}},
			{"null", r.null == nil, true},
		}
		for _, c := range checks {
			if fmt.Sprintf("%#v", c.got) != fmt.Sprintf("%#v", c.want) {
				t.Errorf("mode %v %s: got %#v, want %#v", mode, c.name, c.got, c.want)
			}
		}
	}
}

// TestPgxParams sends parameters of every common type (pgx picks binary
// where it can) and reads the echo back.
func TestPgxParams(t *testing.T) {
	ts := startServer(t, nil)
	conn := pgxConnect(t, ts.addr, "")
	ctx := testCtx(t)
	tz := time.Date(2023, 12, 31, 23, 59, 58, 999999000, time.UTC)
	sql := "echo $1::int2 $2::int4 $3::int8 $4::float4 $5::float8 $6::bool $7::text $8::bytea $9::numeric " +
		"$10::uuid $11::date $12::timestamp $13::timestamptz $14::jsonb $15::_int8 $16::_text $17::interval $18::varchar"
	args := []any{int16(7), int32(-8), int64(9), float32(0.25), 2.5, true, "ünïcode", []byte{0, 1, 2}, "3.14159",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), tz, tz,
		map[string]any{"k": "v"}, []int64{1, 2}, []string{"a", "b c"}, 90 * time.Minute, "vc"}
	// (The simple-protocol mode interpolates literals on the client side,
	// which the fake engine's echo command cannot read.)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeCacheDescribe} {
		var (
			i2          int16
			i4          int32
			i8          int64
			f4          float32
			f8          float64
			b           bool
			s, vc       string
			by          []byte
			n           pgtype.Numeric
			u           pgtype.UUID
			d, tsv, tzv time.Time
			j           map[string]any
			ai          []int64
			at          []string
			iv          time.Duration
		)
		modeArgs := append([]any{mode}, args...)
		if mode != pgx.QueryExecModeCacheStatement {
			// Without a Describe pgx does not know $14 is jsonb and cannot
			// encode a map; a JSON text works in every mode.
			modeArgs[14] = `{"k": "v"}`
		}
		err := conn.QueryRow(ctx, sql, modeArgs...).Scan(&i2, &i4, &i8, &f4, &f8, &b, &s, &by, &n, &u, &d, &tsv, &tzv, &j, &ai, &at, &iv, &vc)
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		nv, _ := n.Value()
		got := fmt.Sprint(i2, i4, i8, f4, f8, b, s, by, nv, fmt.Sprintf("%x", u.Bytes), d.Format("2006-01-02"),
			tsv.Format(time.RFC3339Nano), tzv.UTC().Format(time.RFC3339Nano), j["k"], ai, at, iv, vc)
		want := fmt.Sprint(int16(7), int32(-8), int64(9), float32(0.25), 2.5, true, "ünïcode", []byte{0, 1, 2}, "3.14159",
			"a0eebc999c0b4ef8bb6d6bb9bd380a11", "2024-01-02", tz.Format(time.RFC3339Nano), tz.Format(time.RFC3339Nano),
			"v", []int64{1, 2}, []string{"a", "b c"}, 90*time.Minute, "vc")
		if got != want {
			t.Errorf("mode %v:\n got %s\nwant %s", mode, got, want)
		}
	}
}

func TestPgxErrorFields(t *testing.T) {
	ts := startServer(t, nil)
	conn := pgxConnect(t, ts.addr, "")
	ctx := testCtx(t)
	_, err := conn.Exec(ctx, "fullerror")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a PgError", err)
	}
	got := []string{pe.Severity, pe.SeverityUnlocalized, pe.Code, pe.Message, pe.Detail, pe.Hint, fmt.Sprint(pe.Position),
		pe.SchemaName, pe.TableName, pe.ColumnName, pe.DataTypeName, pe.ConstraintName}
	want := []string{"ERROR", "ERROR", "23505", `duplicate key value violates unique constraint "t_pkey"`,
		"Key (id)=(1) already exists.", "Pick another id.", "7", "public", "t", "id", "integer", "t_pkey"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// The connection is still usable.
	var n int64
	if err := conn.QueryRow(ctx, "series 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after error: %d, %v", n, err)
	}
	_, err = conn.Exec(ctx, "internal")
	if !errors.As(err, &pe) || pe.Code != "XX000" || strings.Contains(pe.Message, "secret") {
		t.Fatalf("internal error leaked or wrong: %v", err)
	}
	if ts.logs.FilterMessage("internal error").Len() == 0 {
		t.Error("the internal error's cause was not logged")
	}
}

// TestPgxBatch sends several statements in one round trip.
func TestPgxBatch(t *testing.T) {
	ts := startServer(t, nil)
	conn := pgxConnect(t, ts.addr, "")
	ctx := testCtx(t)
	b := &pgx.Batch{}
	b.Queue("series 3")
	b.Queue("echo $1::int8", int64(42))
	b.Queue("nocols")
	br := conn.SendBatch(ctx, b)
	rows, err := br.Query()
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if rows.Err() != nil || sum != 6 {
		t.Fatalf("sum %d, %v", sum, rows.Err())
	}
	var echoed int64
	if err := br.QueryRow().Scan(&echoed); err != nil || echoed != 42 {
		t.Fatalf("echo: %d %v", echoed, err)
	}
	if tag, err := br.Exec(); err != nil || tag.String() != "DO" {
		t.Fatalf("exec: %v %v", tag, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPgxPipelineError: in a low-level pipeline an error skips the rest
// up to the Sync, and the connection recovers.
func TestPgxPipelineError(t *testing.T) {
	ts := startServer(t, nil)
	conn := pgxConnect(t, ts.addr, "")
	ctx := testCtx(t)
	pipe := conn.PgConn().StartPipeline(ctx)
	pipe.SendQueryParams("series 2", nil, nil, nil, nil)
	pipe.SendQueryParams("error 22012 boom", nil, nil, nil, nil)
	pipe.SendQueryParams("series 1", nil, nil, nil, nil)
	if err := pipe.Sync(); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for {
		res, err := pipe.GetResults()
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			codes = append(codes, pe.Code)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if res == nil {
			break
		}
		if _, ok := res.(*pgconn.PipelineSync); ok {
			break
		}
		if rr, ok := res.(*pgconn.ResultReader); ok {
			_, err := rr.Close()
			var pe *pgconn.PgError
			switch {
			case errors.As(err, &pe):
				codes = append(codes, pe.Code)
			case err != nil:
				codes = append(codes, err.Error())
			default:
				codes = append(codes, "ok")
			}
		}
	}
	if err := pipe.Close(); err != nil {
		t.Fatal(err)
	}
	// The query after the error is skipped by the server (until Sync), so
	// pgx reports no result for it.
	if got := strings.Join(codes, ","); got != "ok,22012" {
		t.Fatalf("pipeline results %q, want ok,22012", got)
	}
}

// TestPgxCancel cancels a running statement through the context: pgx
// sends a CancelRequest on a second connection, the fake session's Cancel
// makes the statement fail with 57014, and the connection stays usable.
func TestPgxCancel(t *testing.T) {
	ts := startServer(t, nil)
	conn := pgxConnect(t, ts.addr, "")
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "sleep")
		done <- err
	}()
	waitFor(t, ts.eng.runningSession)
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(ioTimeout):
		t.Fatal("statement was not cancelled")
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("got %v, want SQLSTATE 57014", err)
	}
	if conn.IsClosed() {
		t.Fatal("connection closed by the cancel")
	}
	var n int64
	if err := conn.QueryRow(testCtx(t), "series 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after cancel: %d %v", n, err)
	}
}

// TestCancelRequestWrongKey: a CancelRequest with a wrong secret does not
// cancel anything.
func TestCancelRequestWrongKey(t *testing.T) {
	ts := startServer(t, nil)
	conn := pgxConnect(t, ts.addr, "")
	pid := conn.PgConn().PID()
	key := conn.PgConn().SecretKey()
	bad := append([]byte(nil), key...)
	bad[0] ^= 0xff
	c := dialRaw(t, ts.addr)
	c.sendRaw(append([]byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, byte(pid >> 24), byte(pid >> 16), byte(pid >> 8), byte(pid)}, bad...))
	c.expectClosed()
	if s := ts.eng.lastSession(); len(s.cancelCh) != 0 {
		t.Fatal("a wrong key cancelled the session")
	}
	// The right key does.
	c = dialRaw(t, ts.addr)
	c.sendRaw(append([]byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, byte(pid >> 24), byte(pid >> 16), byte(pid >> 8), byte(pid)}, key...))
	c.expectClosed()
	waitFor(t, func() *struct{} {
		if len(ts.eng.lastSession().cancelCh) == 1 {
			return &struct{}{}
		}
		return nil
	})
}

// waitFor polls cond until it returns non-nil, failing after ioTimeout.
func waitFor[T any](t testing.TB, cond func() *T) *T {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for time.Now().Before(deadline) {
		if v := cond(); v != nil {
			return v
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("condition not reached before the deadline")
	return nil
}

func TestPgxCopy(t *testing.T) {
	ts := startServer(t, nil)
	conn := pgxConnect(t, ts.addr, "")
	ctx := testCtx(t)
	data := strings.Repeat("some row of text\n", 10_000)
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(data), "copy in")
	if err != nil || tag.RowsAffected() != 10_000 {
		t.Fatalf("CopyFrom: %v %v", tag, err)
	}
	ts.eng.mu.Lock()
	got := ts.eng.copied[0]
	ts.eng.mu.Unlock()
	if got != data {
		t.Fatalf("engine got %d bytes, want %d", len(got), len(data))
	}
	var out bytes.Buffer
	tag, err = conn.PgConn().CopyTo(ctx, &out, "copy out 3")
	if err != nil || tag.RowsAffected() != 3 || out.String() != "line 1\nline 2\nline 3\n" {
		t.Fatalf("CopyTo: %v %v %q", tag, err, out.String())
	}
}

// TestPgxProtocolNegotiation: a client asking for protocol 3.2 is served
// 3.0 after NegotiateProtocolVersion.
func TestPgxProtocolNegotiation(t *testing.T) {
	ts := startServer(t, nil)
	conn := pgxConnect(t, ts.addr, "&max_protocol_version=3.2")
	var n int64
	if err := conn.QueryRow(testCtx(t), "series 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
	if got := conn.PgConn().ParameterStatus("server_version"); got != "16.4 (fake)" {
		t.Errorf("server_version %q", got)
	}
}
