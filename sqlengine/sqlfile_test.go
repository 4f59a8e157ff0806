package sqlengine

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/pgwire"
)

// The SQL corpus under testdata/sql runs every file through a leader and a
// follower engine sharing one log (see harness_test.go) and checks, after
// each file, that both hold identical state — so every statement in the
// corpus is also a determinism test.
//
// File format (blocks separated by blank lines, # starts a comment line):
//
//	statement ok            the SQL must succeed
//	statement error CODE    the SQL must fail with SQLSTATE CODE
//	query [types]           the SQL's rows must equal the lines after "----";
//	                        with "types", the first expected line lists the
//	                        result columns as name:type
//	session NAME            later blocks run in session NAME (default "main")
//
// Values print in PostgreSQL's text form, NULL as "NULL", columns joined
// by "|". `go test -run TestSQLFiles -rewrite` rewrites the expectations from
// what chr2sql returns; review the diff against PostgreSQL before committing.

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/sql files")

func TestSQLFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/sql/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no SQL test files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".test"), func(t *testing.T) { runSQLFile(t, f) })
	}
}

type sqlBlock struct {
	line     int
	kind     string // statement, query, session
	arg      string // error code, "types", session name
	sql      string
	expected []string
}

func parseSQLFile(t *testing.T, path string) []sqlBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []sqlBlock
	var cur *sqlBlock
	inResult := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && (strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#")):
		case cur == nil:
			f := strings.Fields(line)
			cur = &sqlBlock{line: n, kind: f[0]}
			if len(f) > 1 {
				cur.arg = f[len(f)-1] // "ok", the SQLSTATE after "error", "types" or a session name
			}
			if cur.kind == "session" {
				blocks = append(blocks, *cur)
				cur = nil
			}
		case strings.TrimSpace(line) == "":
			blocks = append(blocks, *cur)
			cur, inResult = nil, false
		case line == "----":
			inResult = true
		case inResult:
			cur.expected = append(cur.expected, line)
		default:
			cur.sql += line + "\n"
		}
	}
	if cur != nil {
		blocks = append(blocks, *cur)
	}
	return blocks
}

func runSQLFile(t *testing.T, path string) {
	c := newTestCluster(t)
	sessions := map[string]pgwire.Session{"main": newSession(t, c.leader)}
	s := sessions["main"]
	blocks := parseSQLFile(t, path)
	failed := false
	for i := range blocks {
		b := &blocks[i]
		switch b.kind {
		case "session":
			if sessions[b.arg] == nil {
				sessions[b.arg] = newSession(t, c.leader)
			}
			s = sessions[b.arg]
			continue
		case "statement", "query":
		default:
			t.Fatalf("%s:%d: unknown directive %q", path, b.line, b.kind)
		}
		got, err := runBlock(t, s, b)
		switch {
		case b.kind == "statement" && b.arg == "ok" && err != nil:
			t.Errorf("%s:%d: %s\nunexpected error: %v", path, b.line, b.sql, err)
			failed = true
		case b.kind == "statement" && b.arg != "ok":
			if code := pgerr.CodeOf(err); err == nil || string(code) != b.arg {
				t.Errorf("%s:%d: %s\nwant error %s, got %v (%s)", path, b.line, b.sql, b.arg, err, code)
				failed = true
			}
		case b.kind == "query" && err != nil:
			t.Errorf("%s:%d: %s\nunexpected error: %v", path, b.line, b.sql, err)
			failed = true
		case b.kind == "query" && strings.Join(got, "\n") != strings.Join(b.expected, "\n"):
			if *rewrite {
				b.expected = got
				continue
			}
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, b.line, b.sql, strings.Join(got, "\n"),
				strings.Join(b.expected, "\n"))
			failed = true
		}
	}
	if *rewrite && !failed {
		writeSQLFile(t, path, blocks)
	}
	c.waitConverged(t)
}

func runBlock(t *testing.T, s pgwire.Session, b *sqlBlock) ([]string, error) {
	rs := run(t, s, strings.TrimSpace(b.sql))
	var last result
	for _, r := range rs {
		if r.err != nil {
			return nil, r.err
		}
		last = r
	}
	var out []string
	if b.arg == "types" {
		out = append(out, strings.Join(last.typeNames(), "|"))
	}
	for _, row := range last.rows {
		out = append(out, strings.Join(row, "|"))
	}
	return out, nil
}

func (r result) typeNames() []string {
	out := make([]string, len(r.cols))
	for i, name := range r.cols {
		typ := "?"
		if i < len(r.types) {
			if ti, ok := pgval.Lookup(r.types[i]); ok {
				typ = ti.Name
			} else {
				typ = fmt.Sprint(r.types[i])
			}
		}
		out[i] = name + ":" + typ
	}
	return out
}

// writeSQLFile rewrites a test file with new expectations, keeping the
// comments between blocks.
func writeSQLFile(t *testing.T, path string, blocks []sqlBlock) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	var out []string
	next := 0
	for _, b := range blocks {
		for next < b.line-1 {
			out = append(out, lines[next])
			next++
		}
		header := lines[b.line-1]
		out = append(out, header)
		next++
		if b.kind == "session" {
			continue
		}
		for next < len(lines) && strings.TrimSpace(lines[next]) != "" && lines[next] != "----" {
			out = append(out, lines[next])
			next++
		}
		if b.kind == "query" {
			out = append(out, "----")
			out = append(out, b.expected...)
		}
		for next < len(lines) && strings.TrimSpace(lines[next]) != "" {
			next++
		}
	}
	out = append(out, lines[next:]...)
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}
