package sqlengine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgwire"
)

// copyWriter is a TEST-ONLY ResultWriter that feeds COPY FROM data and
// captures COPY TO output.
type copyWriter struct {
	collector
	in  io.Reader
	out bytes.Buffer
}

func (w *copyWriter) CopyIn(int16, []int16) (io.Reader, error) {
	if w.in == nil {
		return nil, errors.New("copyWriter: no input")
	}
	return w.in, nil
}

func (w *copyWriter) CopyOut(int16, []int16) (io.WriteCloser, error) { return nopCloser{&w.out}, nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// runCopy executes one COPY statement with data as its input.
func runCopy(t *testing.T, s pgwire.Session, sql, data string) (string, string, error) {
	t.Helper()
	ctx := context.Background()
	stmts, err := s.Parse(ctx, sql, nil)
	if err != nil {
		return "", "", err
	}
	p, err := stmts[0].Bind(ctx, nil)
	if err != nil {
		return "", "", err
	}
	w := &copyWriter{in: strings.NewReader(data)}
	tag, _, err := p.Execute(ctx, 0, w)
	if serr := s.Sync(ctx); err == nil {
		err = serr
	}
	return tag, w.out.String(), err
}

func TestCopyFromTextAndCSV(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE acc (id serial PRIMARY KEY, aid int NOT NULL, note text, amount numeric, raw bytea,
		at timestamptz DEFAULT now(), ok boolean)`)
	text := "1\thello\t1.50\t\\\\x0102\ttrue\n2\t\\N\t-3\t\\N\tf\n3\ttab\\there\\nnewline\t0\t\\x41\tt\n\\.\n"
	tag, _, err := runCopy(t, s, `COPY acc (aid, note, amount, raw, ok) FROM STDIN`, text)
	if err != nil || tag != "COPY 3" {
		t.Fatalf("text COPY: %q %v", tag, err)
	}
	csv := "aid,note,amount,raw,ok\n4,\"a,b\",2,,true\n5,\"\",\"7.25\",\\x00ff,false\n6,\"multi\nline \"\"q\"\"\",,,\n"
	tag, _, err = runCopy(t, s, `COPY acc (aid, note, amount, raw, ok) FROM STDIN WITH (FORMAT csv, HEADER true)`, csv)
	if err != nil || tag != "COPY 3" {
		t.Fatalf("csv COPY: %q %v", tag, err)
	}
	r := must(t, s, `SELECT id, aid, note, amount, raw, ok, at IS NOT NULL FROM acc ORDER BY id`)
	want := "1|1|hello|1.50|\\x0102|t|t\n" +
		"2|2|NULL|-3|NULL|f|t\n" +
		"3|3|tab\there\nnewline|0|\\x41|t|t\n" +
		"4|4|a,b|2|NULL|t|t\n" +
		"5|5||7.25|\\x00ff|f|t\n" +
		"6|6|multi\nline \"q\"|NULL|NULL|NULL|t"
	if got := rowsText(r.rows); got != want {
		t.Fatalf("rows:\n%s\nwant:\n%s", got, want)
	}
	tag, out, err := runCopy(t, s, `COPY acc (id, note, raw) TO STDOUT`, "")
	if err != nil || tag != "COPY 6" {
		t.Fatalf("COPY TO: %q %v", tag, err)
	}
	wantOut := "1\thello\t\\\\x0102\n2\t\\N\t\\N\n3\ttab\\there\\nnewline\t\\\\x41\n4\ta,b\t\\N\n5\t\t\\\\x00ff\n" +
		"6\tmulti\\nline \"q\"\t\\N\n"
	if out != wantOut {
		t.Fatalf("COPY TO:\n%q\nwant:\n%q", out, wantOut)
	}
	_, out, err = runCopy(t, s, `COPY (SELECT id, note FROM acc WHERE id > 3 ORDER BY id) TO STDOUT (FORMAT csv, HEADER)`, "")
	if err != nil || out != "id,note\n4,\"a,b\"\n5,\"\"\n6,\"multi\nline \"\"q\"\"\"\n" {
		t.Fatalf("COPY query TO csv: %q %v", out, err)
	}
	c.waitConverged(t)
}

func TestCopyFromErrorsLeaveNothing(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY, v varchar(3))`)
	// where is PostgreSQL's CONTEXT for the same data, or its prefix where
	// PostgreSQL goes on to quote the line or column (not-null, too long,
	// missing data).
	cases := []struct {
		data  string
		code  pgerr.Code
		where string
	}{
		{"1\tabc\n2\tx\ty\n", pgerr.BadCopyFileFormat, "COPY t, line 2"},
		{"1\n", pgerr.BadCopyFileFormat, "COPY t, line 1"},
		{"1\tabc\nx\tb\n", pgerr.InvalidTextRepresentation, `COPY t, line 2, column id: "x"`},
		{"1\tabc\n1\tdup\n", pgerr.UniqueViolation, "COPY t, line 2"},
		{"1\ttoolong\n", pgerr.StringDataRightTruncation, "COPY t, line 1"},
		{"1\t\xff\xfe\n", pgerr.CharacterNotInRepertoire, "COPY t, line 1"},
		{"1\ta\n2\tb\n3\tc\n2\tz", pgerr.UniqueViolation, "COPY t, line 4"},
		{"\\N\tnul\n", pgerr.NotNullViolation, "COPY t, line 1"}, // SQLite would number the row
	}
	for _, tc := range cases {
		_, _, err := runCopy(t, s, `COPY t FROM STDIN`, tc.data)
		if got := pgerr.CodeOf(err); got != tc.code {
			t.Errorf("COPY of %q: %v (%s), want %s", tc.data, err, got, tc.code)
			continue
		}
		if got := pgerr.From(err).Where; !strings.HasPrefix(got, tc.where) {
			t.Errorf("COPY of %q: context %q, want %q", tc.data, got, tc.where)
		}
		if tc.code == pgerr.UniqueViolation && pgerr.From(err).Detail == "" {
			t.Errorf("COPY of %q: unique violation without the key: %v", tc.data, err)
		}
	}
	if _, _, err := runCopy(t, s, `COPY t (v) FROM STDIN`, "a\n"); pgerr.CodeOf(err) != pgerr.NotNullViolation {
		t.Errorf("COPY leaving out the integer primary key: %v", err)
	}
	if r := must(t, s, `SELECT count(*) FROM t`); rowsText(r.rows) != "0" {
		t.Fatalf("a failed COPY left rows: %v", r.rows)
	}
	// Inside a transaction block the COPY's rows commit with the block.
	must(t, s, `BEGIN`)
	if _, _, err := runCopy(t, s, `COPY t FROM STDIN`, "7\ta\n8\tb\n"); err != nil {
		t.Fatal(err)
	}
	must(t, s, `INSERT INTO t VALUES (9, 'c')`)
	must(t, s, `COMMIT`)
	if r := must(t, s, `SELECT count(*) FROM t`); rowsText(r.rows) != "3" {
		t.Fatalf("COPY in a block: %v", r.rows)
	}
	c.waitConverged(t)
}

func TestCopyManyRowsInBatches(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE big (aid int NOT NULL, bid int, abalance int, filler char(84))`)
	var b strings.Builder
	const n = 3*copyBatchRows + 17
	for i := 1; i <= n; i++ {
		b.WriteString(itoa(i) + "\t" + itoa(i/1000+1) + "\t0\t\n")
	}
	tag, _, err := runCopy(t, s, `copy big from stdin with (freeze on)`, b.String())
	if err != nil || tag != "COPY "+itoa(n) {
		t.Fatalf("%q %v", tag, err)
	}
	must(t, s, `ALTER TABLE big ADD PRIMARY KEY (aid)`)
	r := must(t, s, `SELECT count(*), sum(aid), min(aid), max(aid) FROM big`)
	if got := rowsText(r.rows); got != itoa(n)+"|"+itoa(n*(n+1)/2)+"|1|"+itoa(n) {
		t.Fatalf("aggregates: %s", got)
	}
	c.waitConverged(t)
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCopyBinaryRoundTrip writes a table in binary COPY format and reads
// it back into another (what pgx's CopyFrom sends).
func TestCopyBinaryRoundTrip(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE src (id int, n numeric(8,2), at timestamptz, doc jsonb, raw bytea, ok bool, f float8, u uuid, tags text[])`)
	must(t, s, `INSERT INTO src VALUES (1, 12.5, '2024-02-29 13:14:15.123456+00', '{"a": [1]}', '\x00ff', true, 1.5,
		'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{x,y}'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	_, out, err := runCopy(t, s, `COPY src TO STDOUT (FORMAT binary)`, "")
	if err != nil || !strings.HasPrefix(out, "PGCOPY\n\xff\r\n\x00") {
		t.Fatalf("COPY TO binary: %q %v", out, err)
	}
	must(t, s, `CREATE TABLE dst (LIKE src)`)
	tag, _, err := runCopy(t, s, `COPY dst FROM STDIN WITH (FORMAT binary)`, out)
	if err != nil || tag != "COPY 2" {
		t.Fatalf("COPY FROM binary: %q %v", tag, err)
	}
	a := must(t, s, `SELECT * FROM src ORDER BY id`)
	b := must(t, s, `SELECT * FROM dst ORDER BY id`)
	if rowsText(a.rows) != rowsText(b.rows) {
		t.Fatalf("binary round trip:\n%s\n%s", rowsText(a.rows), rowsText(b.rows))
	}
	if _, _, err := runCopy(t, s, `COPY dst FROM STDIN (FORMAT binary)`, "not binary"); pgerr.CodeOf(err) != pgerr.BadCopyFileFormat {
		t.Fatalf("bad signature: %v", err)
	}
	c.waitConverged(t)
}
