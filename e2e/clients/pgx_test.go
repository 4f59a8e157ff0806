package clients

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgtype"
)

const typedDDL = `CREATE TABLE typed(id int8 PRIMARY KEY, i2 int2, i4 int4, f4 float4, f8 float8, b bool, t text,
	by bytea, u uuid, ts timestamptz, d date, n numeric(20,6), j jsonb)`

const typedInsert = `INSERT INTO typed(id, i2, i4, f4, f8, b, t, by, u, ts, d, n, j)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

const typedSelect = `SELECT id, i2, i4, f4, f8, b, t, by, u, ts, d, n, j FROM typed WHERE id = $1`

// The OIDs PostgreSQL infers for typedInsert's parameters and typedSelect's
// columns: int8 int2 int4 float4 float8 bool text bytea uuid timestamptz
// date numeric jsonb.
var typedOIDs = []uint32{20, 21, 23, 700, 701, 16, 25, 17, 2950, 1184, 1082, 1700, 3802}

type typedRow struct {
	ID int64
	I2 int16
	I4 int32
	F4 float32
	F8 float64
	B  bool
	T  string
	By []byte
	U  pgtype.UUID
	Ts time.Time
	D  time.Time
	N  pgtype.Numeric
	J  map[string]any
}

func sampleTyped() typedRow {
	var n pgtype.Numeric
	if err := n.Scan("12345678901234.123456"); err != nil {
		panic(err)
	}
	return typedRow{ID: math.MaxInt64, I2: math.MinInt16, I4: math.MaxInt32, F4: 1.5, F8: math.Pi, B: true,
		T: "héllo ✓ 'quoted'", By: []byte{0, 1, 2, 0xfe, 0xff},
		U:  pgtype.UUID{Bytes: [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, Valid: true},
		Ts: time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC), D: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		N: n, J: map[string]any{"a": []any{1.0, 2.0, map[string]any{"b": nil}}, "z": "ü"}}
}

func (r *typedRow) args() []any {
	return []any{r.ID, r.I2, r.I4, r.F4, r.F8, r.B, r.T, r.By, r.U, r.Ts, r.D, r.N, r.J}
}

func (r *typedRow) dest() []any {
	return []any{&r.ID, &r.I2, &r.I4, &r.F4, &r.F8, &r.B, &r.T, &r.By, &r.U, &r.Ts, &r.D, &r.N, &r.J}
}

func checkTyped(t *testing.T, mode string, got, want typedRow) {
	t.Helper()
	numStr := func(n pgtype.Numeric) string { v, _ := n.Value(); return fmt.Sprint(v) }
	if got.ID != want.ID || got.I2 != want.I2 || got.I4 != want.I4 || got.F4 != want.F4 || got.F8 != want.F8 ||
		got.B != want.B || got.T != want.T || string(got.By) != string(want.By) || got.U != want.U ||
		!got.Ts.Equal(want.Ts) || !got.D.Equal(want.D) || numStr(got.N) != numStr(want.N) || !reflect.DeepEqual(got.J, want.J) {
		t.Errorf("%s: round trip differs\n got %+v\nwant %+v", mode, got, want)
	}
}

// TestPgxTypesBinary: the server infers every parameter type from the
// statement (pgx sends Parse without OIDs), pgx then encodes all thirteen
// types in binary, asks for binary results, and every value comes back
// exactly; NULLs of every type round-trip too.
func TestPgxTypesBinary(t *testing.T) {
	n := startNode(t)
	conn := n.connect(t)
	ctx := testCtx(t)
	n.exec(t, typedDDL)

	sd, err := conn.Prepare(ctx, "typed_insert", typedInsert)
	if err != nil {
		t.Fatalf("prepare %s: %v", typedInsert, err)
	}
	if !reflect.DeepEqual(sd.ParamOIDs, typedOIDs) {
		t.Fatalf("inferred parameter OIDs %v, PostgreSQL infers %v", sd.ParamOIDs, typedOIDs)
	}
	want := sampleTyped()
	if _, err := conn.Exec(ctx, "typed_insert", want.args()...); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if _, err := conn.Exec(ctx, typedInsert, 1, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil); err != nil {
		t.Fatalf("insert NULLs: %v", err)
	}

	rows, err := conn.Query(ctx, typedSelect, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got typedRow
	var fields []pgconn.FieldDescription
	for rows.Next() {
		fields = append(fields, rows.FieldDescriptions()...)
		if err := rows.Scan(got.dest()...); err != nil {
			t.Fatalf("scan: %v", err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(fields) != len(typedOIDs) {
		t.Fatalf("want one row of %d columns, got fields %v", len(typedOIDs), fields)
	}
	for i, f := range fields {
		// pgx asks for text and jsonb in text format, everything else in
		// binary; binaryRoundTrip forces binary for those two.
		wantFormat := int16(pgtype.BinaryFormatCode)
		if f.DataTypeOID == pgtype.TextOID || f.DataTypeOID == pgtype.JSONBOID {
			wantFormat = pgtype.TextFormatCode
		}
		if f.DataTypeOID != typedOIDs[i] || f.Format != wantFormat {
			t.Errorf("column %s: oid %d format %d, want oid %d format %d", f.Name, f.DataTypeOID, f.Format, typedOIDs[i], wantFormat)
		}
	}
	binaryRoundTrip(t, conn, want)
	checkTyped(t, "binary", got, want)

	var nulls [13]any
	dest := make([]any, len(nulls))
	for i := range nulls {
		dest[i] = &nulls[i]
	}
	if err := conn.QueryRow(ctx, typedSelect, 1).Scan(dest...); err != nil {
		t.Fatal(err)
	}
	if nulls[0] != int64(1) {
		t.Errorf("id = %#v", nulls[0])
	}
	for i, v := range nulls[1:] {
		if v != nil {
			t.Errorf("column %d: want NULL, got %#v", i+1, v)
		}
	}

	// The text forms PostgreSQL prints for the same values.
	var text string
	err = conn.QueryRow(ctx, `SELECT concat_ws('|', i2, i4, f4, f8, b, t, by, u, ts AT TIME ZONE 'UTC', d, n, j)
		FROM typed WHERE id = $1`, want.ID).Scan(&text)
	wantText := `-32768|2147483647|1.5|3.141592653589793|t|héllo ✓ 'quoted'|\x000102feff|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|` +
		`2024-02-29 13:14:15.123456|2024-02-29|12345678901234.123456|{"a": [1, 2, {"b": null}], "z": "ü"}`
	if err != nil || text != wantText {
		t.Errorf("text forms: %v\n got %s\nwant %s", err, text, wantText)
	}
}

// binaryRoundTrip sends every parameter and asks for every result column in
// binary format, text and jsonb included, through the low-level protocol.
func binaryRoundTrip(t *testing.T, conn *pgx.Conn, want typedRow) {
	t.Helper()
	ctx := testCtx(t)
	tm := conn.TypeMap()
	want.ID = 7
	args := want.args()
	params := make([][]byte, len(args))
	formats := make([]int16, len(args))
	for i, a := range args {
		buf, err := tm.Encode(typedOIDs[i], pgtype.BinaryFormatCode, a, nil)
		if err != nil {
			t.Fatalf("encode %T: %v", a, err)
		}
		params[i], formats[i] = buf, pgtype.BinaryFormatCode
	}
	if err := conn.PgConn().ExecParams(ctx, typedInsert, params, typedOIDs, formats, nil).Read().Err; err != nil {
		t.Fatalf("binary insert: %v", err)
	}
	resultFormats := make([]int16, len(typedOIDs))
	for i := range resultFormats {
		resultFormats[i] = pgtype.BinaryFormatCode
	}
	res := conn.PgConn().ExecParams(ctx, typedSelect, [][]byte{[]byte("7")}, nil, nil, resultFormats).Read()
	if res.Err != nil || len(res.Rows) != 1 {
		t.Fatalf("binary select: %d rows, %v", len(res.Rows), res.Err)
	}
	var got typedRow
	dest := got.dest()
	for i, f := range res.FieldDescriptions {
		if f.Format != pgtype.BinaryFormatCode {
			t.Errorf("column %s sent in format %d after a binary request", f.Name, f.Format)
			continue
		}
		if err := tm.Scan(f.DataTypeOID, f.Format, res.Rows[0][i], dest[i]); err != nil {
			t.Errorf("decode binary %s: %v", f.Name, err)
		}
	}
	checkTyped(t, "all-binary", got, want)
}

// TestPgxQueryExecModes runs the same parameterized statements in all five
// of pgx's execution modes (cached statement, cached describe, describe
// each time, exec with text-inferred types, simple protocol) and expects
// identical results.
func TestPgxQueryExecModes(t *testing.T) {
	n := startNode(t)
	n.exec(t, typedDDL)
	want := sampleTyped()
	modes := []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe,
		pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol}
	for i, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			conn := n.connect(t)
			ctx := testCtx(t)
			row := want
			row.ID = int64(100 + i)
			args := row.args()
			if mode == pgx.QueryExecModeExec || mode == pgx.QueryExecModeSimpleProtocol {
				// Without a described statement pgx cannot tell a map is
				// meant as jsonb; applications pass JSON text there.
				js, _ := json.Marshal(row.J)
				args[12] = string(js)
			}
			if _, err := conn.Exec(ctx, typedInsert, append([]any{mode}, args...)...); err != nil {
				t.Fatalf("insert: %v", err)
			}
			var got typedRow
			if err := conn.QueryRow(ctx, typedSelect, mode, row.ID).Scan(got.dest()...); err != nil {
				t.Fatalf("select: %v", err)
			}
			checkTyped(t, mode.String(), got, row)
			var sum int64
			if err := conn.QueryRow(ctx, "SELECT $1::int8 + $2", mode, int64(40), 2).Scan(&sum); err != nil || sum != 42 {
				t.Errorf("SELECT $1::int8 + $2: %d, %v", sum, err)
			}
		})
	}
}

// TestPgxPreparedAndCache covers named prepared statements, re-preparing a
// name after Deallocate, and the statement cache (one server-side statement
// reused for many executions).
func TestPgxPreparedAndCache(t *testing.T) {
	n := startNode(t)
	conn := n.connect(t)
	ctx := testCtx(t)
	n.exec(t, "CREATE TABLE kv(k text PRIMARY KEY, v int4 NOT NULL)")

	if _, err := conn.Prepare(ctx, "put", "INSERT INTO kv(k, v) VALUES ($1, $2)"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := conn.Exec(ctx, "put", fmt.Sprintf("k%02d", i), i); err != nil {
			t.Fatalf("exec put: %v", err)
		}
	}
	if _, err := conn.Exec(ctx, "put", "k00", 1); sqlStateOf(err) != string(pgerr.UniqueViolation) {
		t.Fatalf("duplicate key through a prepared statement: want %s, got %v", pgerr.UniqueViolation, err)
	}
	if err := conn.Deallocate(ctx, "put"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Prepare(ctx, "put", "UPDATE kv SET v = v + $2 WHERE k = $1"); err != nil {
		t.Fatalf("re-prepare after deallocate: %v", err)
	}
	if tag, err := conn.Exec(ctx, "put", "k05", 100); err != nil || tag.String() != "UPDATE 1" {
		t.Fatalf("exec re-prepared: %v %v", tag, err)
	}

	// Statement cache: the same SQL with different arguments is prepared once.
	sum := 0
	for i := 0; i < 20; i++ {
		var v int
		if err := conn.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", fmt.Sprintf("k%02d", i)).Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if want := 190 + 100; sum != want {
		t.Fatalf("sum %d, want %d", sum, want)
	}
	var cached int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT v FROM kv WHERE k = $1'").
		Scan(&cached); err != nil || cached != 1 {
		t.Fatalf("pg_prepared_statements lists the cached statement %d times (%v), want 1", cached, err)
	}
	// A schema change invalidates the cached plan's result shape; pgx
	// re-prepares after PostgreSQL's 0A000 "cached plan must not change
	// result type" — the application never sees an error.
	if _, err := conn.Exec(ctx, "ALTER TABLE kv ADD COLUMN note text"); err != nil {
		t.Fatalf("ALTER TABLE: %v", err)
	}
	var k string
	var v int
	var note *string
	if err := conn.QueryRow(ctx, "SELECT * FROM kv WHERE k = $1", "k01").Scan(&k, &v, &note); err != nil || v != 1 {
		t.Fatalf("SELECT * after ALTER: %v", err)
	}
}

// TestPgxBatchPipeline: a batch is one pipeline with one Sync, so it runs as
// one implicit transaction — an error in the middle rolls back its earlier
// statements; the low-level pipeline interleaves Parse/Bind/Execute of
// several statements before reading any result.
func TestPgxBatchPipeline(t *testing.T) {
	n := startNode(t)
	conn := n.connect(t)
	ctx := testCtx(t)
	n.exec(t, "CREATE TABLE acct(id int4 PRIMARY KEY, balance int8 NOT NULL CHECK (balance >= 0))")

	b := &pgx.Batch{}
	for i := 1; i <= 5; i++ {
		b.Queue("INSERT INTO acct(id, balance) VALUES ($1, $2)", i, 100)
	}
	b.Queue("UPDATE acct SET balance = balance - $1 WHERE id = $2 RETURNING balance", 30, 1)
	b.Queue("SELECT sum(balance) FROM acct")
	br := conn.SendBatch(ctx, b)
	for i := 0; i < 5; i++ {
		if _, err := br.Exec(); err != nil {
			t.Fatalf("batch insert %d: %v", i, err)
		}
	}
	var bal, total int64
	if err := br.QueryRow().Scan(&bal); err != nil || bal != 70 {
		t.Fatalf("batch update returning: %d %v", bal, err)
	}
	if err := br.QueryRow().Scan(&total); err != nil || total != 470 {
		t.Fatalf("batch sum: %d %v", total, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}

	b = &pgx.Batch{}
	b.Queue("INSERT INTO acct(id, balance) VALUES (6, 1)")
	b.Queue("UPDATE acct SET balance = balance - 1000 WHERE id = 2")
	b.Queue("INSERT INTO acct(id, balance) VALUES (7, 1)")
	err := conn.SendBatch(ctx, b).Close()
	if sqlStateOf(err) != string(pgerr.CheckViolation) {
		t.Fatalf("batch violating a CHECK: want %s, got %v", pgerr.CheckViolation, err)
	}
	var count int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM acct").Scan(&count); err != nil || count != 5 {
		t.Fatalf("after the failed batch: %d rows (%v), want 5: the implicit transaction must roll back", count, err)
	}

	pipelineRoundTrip(t, conn.PgConn())
}

func pipelineRoundTrip(t *testing.T, pc *pgconn.PgConn) {
	t.Helper()
	ctx := testCtx(t)
	p := pc.StartPipeline(ctx)
	p.SendPrepare("bal", "SELECT balance FROM acct WHERE id = $1", nil)
	p.SendQueryPrepared("bal", [][]byte{[]byte("3")}, nil, nil)
	p.SendQueryParams("SELECT $1::text || '!'", [][]byte{[]byte("hi")}, nil, nil, nil)
	if err := p.Sync(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		res, err := p.GetResults()
		if err != nil {
			t.Fatalf("pipeline: %v", err)
		}
		switch r := res.(type) {
		case *pgconn.StatementDescription:
			if len(r.ParamOIDs) != 1 || r.ParamOIDs[0] != 23 {
				t.Errorf("pipelined Parse inferred %v, want [23]", r.ParamOIDs)
			}
		case *pgconn.ResultReader:
			rr := r.Read()
			if rr.Err != nil {
				t.Fatalf("pipelined result: %v", rr.Err)
			}
			for _, row := range rr.Rows {
				got = append(got, string(row[0]))
			}
		case *pgconn.PipelineSync:
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != "100,hi!" {
				t.Fatalf("pipelined results %q, want 100,hi!", got)
			}
			return
		case nil:
			t.Fatalf("pipeline ended before its Sync; results so far %q", got)
		}
	}
}

// TestPgxCopyFrom streams rows with COPY … FROM STDIN in binary format.
func TestPgxCopyFrom(t *testing.T) {
	n := startNode(t)
	conn := n.connect(t)
	ctx := testCtx(t)
	n.exec(t, "CREATE TABLE items(id int8 PRIMARY KEY, name text NOT NULL, price numeric(10,2), seen timestamptz, tags jsonb)")
	const total = 2500
	rows := make([][]any, total)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		var price pgtype.Numeric
		if err := price.Scan(fmt.Sprintf("%d.%02d", i, i%100)); err != nil {
			t.Fatal(err)
		}
		var seen any = base.Add(time.Duration(i) * time.Minute)
		if i%10 == 0 {
			seen = nil
		}
		rows[i] = []any{int64(i), fmt.Sprintf("item-%d", i), price, seen, map[string]any{"i": i}}
	}
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "name", "price", "seen", "tags"}, pgx.CopyFromRows(rows))
	if err != nil || copied != total {
		t.Fatalf("CopyFrom: %d rows, %v", copied, err)
	}
	var count, nulls int
	var sum string
	err = conn.QueryRow(ctx, "SELECT count(*), count(*) - count(seen), sum(price)::text FROM items").Scan(&count, &nulls, &sum)
	if err != nil || count != total || nulls != total/10 || sum != "3124987.50" {
		t.Fatalf("after copy: count %d nulls %d sum %s err %v; want %d %d 3124987.50", count, nulls, sum, err, total, total/10)
	}
	var name string
	var tag int
	if err := conn.QueryRow(ctx, "SELECT name, (tags->>'i')::int FROM items WHERE id = 1234").Scan(&name, &tag); err != nil ||
		name != "item-1234" || tag != 1234 {
		t.Fatalf("row 1234: %q %d %v", name, tag, err)
	}
	// A failing COPY (duplicate key) leaves nothing behind.
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "name"}, pgx.CopyFromRows([][]any{{int64(total + 1), "new"}, {int64(5), "dup"}}))
	if sqlStateOf(err) != string(pgerr.UniqueViolation) {
		t.Fatalf("duplicate key in COPY: want %s, got %v", pgerr.UniqueViolation, err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&count); err != nil || count != total {
		t.Fatalf("after failed COPY: %d rows (%v), want %d", count, err, total)
	}
}

// TestPgxCancel: a statement cancelled by a CancelRequest (sent by pgx when
// the query's context ends) fails with 57014 query_canceled, and the
// connection stays usable.
func TestPgxCancel(t *testing.T) {
	n := startNode(t)
	cfg, err := pgx.ParseConfig(n.url())
	if err != nil {
		t.Fatal(err)
	}
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, CancelRequestDelay: 0, DeadlineDelay: 10 * time.Second}
	}
	conn, err := pgx.ConnectConfig(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	long := map[string]string{
		"pg_sleep": "SELECT pg_sleep(30)",
		"cpu":      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000000000) SELECT count(*) FROM c",
	}
	for _, name := range []string{"pg_sleep", "cpu"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := conn.Exec(ctx, long[name])
			if sqlStateOf(err) != string(pgerr.QueryCanceled) {
				t.Fatalf("%s cancelled after 300ms: want %s, got %v after %v", long[name], pgerr.QueryCanceled, err, time.Since(start))
			}
			if !strings.Contains(err.Error(), "canceling statement due to user request") {
				t.Errorf("message %q, want PostgreSQL's 'canceling statement due to user request'", err)
			}
			var one int
			if err := conn.QueryRow(testCtx(t), "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Fatalf("connection unusable after cancel: %v", err)
			}
		})
	}
}

// TestPgxErrorsAndTransactions: errors carry PostgreSQL's SQLSTATE, a
// failed statement aborts the transaction block (25P02) until ROLLBACK,
// and savepoints recover part of a transaction.
func TestPgxErrorsAndTransactions(t *testing.T) {
	n := startNode(t)
	conn := n.connect(t)
	ctx := testCtx(t)
	n.exec(t, "CREATE TABLE e(id int4 PRIMARY KEY, v text NOT NULL)")
	cases := []struct {
		sql   string
		state pgerr.Code
	}{
		{"SELECT 1/0", pgerr.DivisionByZero},
		{"SELECT * FROM missing_table", pgerr.UndefinedTable},
		{"SELECT nope FROM e", pgerr.UndefinedColumn},
		{"SELEC 1", pgerr.SyntaxError},
		{"INSERT INTO e(id, v) VALUES (1, NULL)", pgerr.NotNullViolation},
		{"SELECT 'abc'::int4", pgerr.InvalidTextRepresentation},
		{"SELECT 2147483647::int4 + 1", pgerr.NumericValueOutOfRange},
	}
	for _, c := range cases {
		if _, err := conn.Exec(ctx, c.sql); sqlStateOf(err) != string(c.state) {
			t.Errorf("%s: want %s, got %v", c.sql, c.state, err)
		}
	}

	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO e VALUES (1, 'a')"); err != nil {
		t.Fatal(err)
	}
	sp, err := tx.Begin(ctx) // SAVEPOINT
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Exec(ctx, "INSERT INTO e VALUES (1, 'dup')"); sqlStateOf(err) != string(pgerr.UniqueViolation) {
		t.Fatalf("duplicate in savepoint: %v", err)
	}
	if err := sp.Rollback(ctx); err != nil { // ROLLBACK TO SAVEPOINT
		t.Fatalf("rollback to savepoint: %v", err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO e VALUES (2, 'b')"); err != nil {
		t.Fatalf("insert after rollback to savepoint: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1/0"); err == nil {
		t.Fatal("1/0 succeeded")
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); sqlStateOf(err) != string(pgerr.InFailedSQLTransaction) {
		t.Fatalf("statement in failed transaction: want %s, got %v", pgerr.InFailedSQLTransaction, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := conn.QueryRow(ctx, "SELECT string_agg(v, ',' ORDER BY id) FROM e").Scan(&got); err != nil || got != "a,b" {
		t.Fatalf("committed rows %q (%v), want a,b", got, err)
	}
	var js []byte
	if err := conn.QueryRow(ctx, "SELECT json_agg(e ORDER BY id) FROM e").Scan(&js); err != nil {
		t.Fatalf("json_agg(row): %v", err)
	}
	var decoded []map[string]any
	if err := json.Unmarshal(js, &decoded); err != nil || len(decoded) != 2 || decoded[1]["v"] != "b" {
		t.Fatalf("json_agg: %s %v", js, err)
	}
}
