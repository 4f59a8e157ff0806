package corpus

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	got, err := Split(`-- header comment
SELECT 1;
SELECT 'a;b', $$x;y$$; -- trailing
/* block */ SELECT "semi;colon" FROM t;
-- only a comment at the end
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SELECT 1", "SELECT 'a;b', $$x;y$$", `/* block */ SELECT "semi;colon" FROM t`}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Split:\n got %q\nwant %q", got, want)
	}
}

func TestLoadCorpus(t *testing.T) {
	files, err := Load("sql")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		if len(f.Statements) == 0 {
			t.Errorf("%s has no statements", f.Name)
		}
		for _, s := range f.Statements {
			if strings.HasPrefix(s, "--") || strings.HasSuffix(s, ";") {
				t.Errorf("%s: badly split statement %q", f.Name, s)
			}
		}
		total += len(f.Statements)
	}
	if total < 500 {
		t.Fatalf("corpus has %d statements, want at least 500", total)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Fatal("empty directory loaded without error")
	}
}

func TestOrdered(t *testing.T) {
	cases := map[string]bool{
		"SELECT a FROM t ORDER BY a":                                         true,
		"select a from t order  by a desc limit 3":                           true,
		"SELECT string_agg(a, ',' ORDER BY a) FROM t":                        false,
		"SELECT * FROM (SELECT a FROM t ORDER BY a) s":                       false,
		"SELECT row_number() OVER (ORDER BY a) FROM t":                       false,
		"SELECT 'ORDER BY' FROM t":                                           false,
		`SELECT "order by" FROM t`:                                           false,
		"SELECT a AS border FROM t":                                          false,
		"SELECT x FROM (SELECT 1) s(x) ORDER BY lower(x)":                    true,
		"WITH c AS (SELECT 1 AS x ORDER BY 1) SELECT * FROM c":               false,
		"SELECT a FROM t WHERE b IN (SELECT b FROM u ORDER BY b) ORDER BY a": true,
	}
	for sql, want := range cases {
		if got := Ordered(sql); got != want {
			t.Errorf("Ordered(%q) = %v, want %v", sql, got, want)
		}
	}
}

func str(s string) *string { return &s }

func TestCompare(t *testing.T) {
	cols := []Column{{"a", 23}, {"b", 25}}
	ok := func(tag string, rows ...[]*string) Result { return Result{Columns: cols, Tag: tag, Rows: rows} }
	r1 := []*string{str("1"), str("x")}
	r2 := []*string{str("2"), nil}
	r2text := []*string{str("2"), str("")}
	cases := []struct {
		name    string
		pg, chr Result
		ordered bool
		want    string
	}{
		{"same error", Result{SQLState: "22012", Message: "division by zero"}, Result{SQLState: "22012", Message: "other text"}, false, Match},
		{"other error", Result{SQLState: "22012"}, Result{SQLState: "XX000"}, false, StateDiffer},
		{"only pg fails", Result{SQLState: "42P01"}, ok("SELECT 0"), false, OnlyPGError},
		{"only chr2 fails", ok("SELECT 0"), Result{SQLState: "0A000"}, false, OnlyError},
		{"same rows", ok("SELECT 2", r1, r2), ok("SELECT 2", r1, r2), true, Match},
		{"unordered", ok("SELECT 2", r1, r2), ok("SELECT 2", r2, r1), false, Match},
		{"order matters", ok("SELECT 2", r1, r2), ok("SELECT 2", r2, r1), true, RowsDiffer},
		{"NULL is not empty", ok("SELECT 1", r2), ok("SELECT 1", r2text), false, RowsDiffer},
		{"missing row", ok("SELECT 2", r1, r2), ok("SELECT 2", r1), false, RowsDiffer},
		{"tag", ok("INSERT 0 2"), ok("INSERT 0 1"), false, TagDiffer},
		{"names", ok("SELECT 0"), Result{Columns: []Column{{"a", 23}, {"c", 25}}, Tag: "SELECT 0"}, false, ColsDiffer},
		{"count", ok("SELECT 0"), Result{Columns: cols[:1], Tag: "SELECT 0"}, false, ColsDiffer},
		{"types", ok("SELECT 0"), Result{Columns: []Column{{"a", 20}, {"b", 25}}, Tag: "SELECT 0"}, false, TypesDiffer},
	}
	for _, c := range cases {
		if got := Compare(c.pg, c.chr, c.ordered); got != c.want {
			t.Errorf("%s: Compare = %q, want %q", c.name, got, c.want)
		}
	}
	if d := FirstRowDiff(ok("SELECT 2", r1, r2), ok("SELECT 2", r1, r2text), true); d != "row 2: PostgreSQL (2, NULL), chr2sql (2, )" {
		t.Errorf("FirstRowDiff = %q", d)
	}
	if d := FirstRowDiff(ok("SELECT 1", r1), ok("SELECT 1", r1), false); d != "" {
		t.Errorf("FirstRowDiff of equal rows = %q", d)
	}
}

func TestReport(t *testing.T) {
	outs := []Outcome{
		{File: "a", SQL: "SELECT 1", Verdict: Match},
		{File: "a", SQL: "SELECT `x`", PG: Result{SQLState: "42703", Message: "column x"}, Chr2: Result{Tag: "SELECT 0"}, Verdict: OnlyPGError},
		{File: "b", SQL: "SELECT 2", Verdict: Match},
	}
	files, total := Summarize(outs)
	if len(files) != 2 || files[0].Matched != 1 || files[0].Total != 2 || total.Matched != 2 || total.Total != 3 {
		t.Fatalf("Summarize: %+v %+v", files, total)
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, ReportInfo{Command: "go run ./corpus/cmd/compare"}, outs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**2 of 3 statements match PostgreSQL (66.7%).**", "| a | 1 | 2 | 50.0% |",
		"| " + OnlyPGError + " | 1 |", "`` SELECT 'x' ``", "ERROR 42703: column x"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// FuzzOrdered: the ORDER BY scanner never panics and never reports an
// ORDER BY for text that has none.
func FuzzOrdered(f *testing.F) {
	for _, s := range []string{"SELECT 1 ORDER BY 1", "SELECT '(' ORDER BY x", "((( order by", "\"", "'", "ORDER"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		if Ordered(sql) && !strings.Contains(strings.ToUpper(sql), "ORDER") {
			t.Fatalf("Ordered(%q) without ORDER", sql)
		}
	})
}
