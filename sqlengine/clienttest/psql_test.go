package clienttest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// updateFromPG regenerates testdata/*.out from a real PostgreSQL 15: give
// it the URL of an empty database, e.g.
//
//	go test -run TestPsqlMetaCommands -update-from-pg 'postgres://postgres@127.0.0.1:5432/chr2_clienttest'
//
// The golden files are never written from chr2sql's own output.
var updateFromPG = flag.String("update-from-pg", "", "regenerate psql golden files from this PostgreSQL database URL")

// metaCommands are the psql commands compared, keyed by golden file name.
var metaCommands = []struct{ golden, command string }{
	{"dt", `\dt`},
	{"d_books", `\d books`},
	{"d_authors", `\d authors`},
	{"di", `\di`},
	{"dn", `\dn archive|public`}, // chr2sql also has its own schema chr2
	{"dv", `\dv`},
	{"ds", `\ds`},
	{"dt_archive__", `\dt archive.*`},
	{"d_plus_books", `\d+ books`},
	{"d_long_books", `\d long_books`},
	{"d_authors_id_seq", `\d authors_id_seq`},
	{"d_books_pkey", `\d books_pkey`},
	{"d_archive_old_books", `\d archive.old_books`},
	{"dtv_b", `\dtv b*`},
	{"dd_books_pages_check", `\dd books_pages_check`},
	// \d+ of a view is left out: PostgreSQL prints pg_get_viewdef's
	// deparsed and re-indented query, chr2sql the text as written.
	{"du", `\du`},
	{"dx", `\dx`},
	{"df", `\df`},
	{"dT", `\dT`},
	{"dt_plus_authors", `\dt+ authors`},
	{"dE", `\dE`},
	{"dm", `\dm`},
	{"dy", `\dy`},
}

// TestPsqlMetaCommands creates testdata/schema.sql through psql on a
// single node and checks that psql's describe commands print exactly what
// they print against PostgreSQL 15.
func TestPsqlMetaCommands(t *testing.T) {
	psql := requireTool(t, "psql")
	var env []string
	if *updateFromPG != "" {
		env = append(os.Environ(), "PSQLRC=/dev/null", "PGTZ=UTC", "LC_ALL=C.UTF-8")
	} else {
		s := startCluster(t, 1).leader()
		env = libpqEnv(s.PGAddr(), "postgres")
	}
	target := *updateFromPG
	args := func(extra ...string) []string {
		a := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-P", "pager=off"}
		if target != "" {
			a = append(a, "-d", target)
		}
		return append(a, extra...)
	}
	schema, err := os.ReadFile(filepath.Join("testdata", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := runTool(t, env, time.Minute, string(schema), psql, args("-f", "-")...); err != nil {
		t.Fatalf("schema through psql: %v\n%s%s", err, out, errOut)
	}
	for _, mc := range metaCommands {
		out, errOut, err := runTool(t, env, time.Minute, "", psql, args("-c", mc.command)...)
		if err != nil || errOut != "" {
			t.Errorf("%s: %v\n%s", mc.command, err, errOut)
			continue
		}
		path := filepath.Join("testdata", mc.golden+".out")
		if *updateFromPG != "" {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("%s differs from PostgreSQL 15 (%s)\n--- got\n%s--- want\n%s", mc.command, path, out, want)
		}
	}
}

// TestPsqlScript runs a script with psql's own variable and \gset
// machinery and checks the answers psql prints (unaligned, tuples only).
func TestPsqlScript(t *testing.T) {
	psql := requireTool(t, "psql")
	s := startCluster(t, 1).leader()
	script := `CREATE TABLE kv (k text PRIMARY KEY, v numeric(10,3));
INSERT INTO kv VALUES ('a', 1.5), ('b', 2.25) \;
INSERT INTO kv VALUES ('c', 0.125);
SELECT sum(v) AS total FROM kv \gset
SELECT :'total'::numeric * 2;
\copy kv TO STDOUT WITH (FORMAT csv, HEADER)
SELECT k FROM kv WHERE v > 1 ORDER BY k;
`
	out, errOut, err := runTool(t, libpqEnv(s.PGAddr(), "postgres"), time.Minute, script, psql,
		"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-")
	if err != nil || errOut != "" {
		t.Fatalf("psql: %v\n%s%s", err, out, errOut)
	}
	want := strings.Join([]string{"7.750", "k,v", "a,1.500", "b,2.250", "c,0.125", "a", "b", ""}, "\n")
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}
