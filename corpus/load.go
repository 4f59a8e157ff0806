package corpus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// ErrEmptyCorpus is returned when a corpus directory holds no statements.
var ErrEmptyCorpus = errors.New("corpus: no statements")

// File is one corpus file: statements that run in order in one database.
type File struct {
	Name       string
	Statements []string
}

// Load reads every *.sql file of dir in lexical order.
func Load(dir string) ([]File, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var files []File
	total := 0
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		stmts, err := Split(string(text))
		if err != nil {
			return nil, fmt.Errorf("corpus: %s: %w", p, err)
		}
		files = append(files, File{Name: strings.TrimSuffix(filepath.Base(p), ".sql"), Statements: stmts})
		total += len(stmts)
	}
	if total == 0 {
		return nil, fmt.Errorf("%w in %s", ErrEmptyCorpus, dir)
	}
	return files, nil
}

// Split cuts SQL text into statements with PostgreSQL's scanner (quotes,
// dollar quotes and comments are honoured) and drops comment-only lines
// that precede a statement.
func Split(text string) ([]string, error) {
	parts, err := pg_query.SplitWithScanner(text, true)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range parts {
		if s := stripLeadingComments(p); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

func stripLeadingComments(s string) string {
	for {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "--") {
			return s
		}
		nl := strings.IndexByte(s, '\n')
		if nl < 0 {
			return ""
		}
		s = s[nl+1:]
	}
}

// Ordered reports whether a statement's rows have a defined order: it has
// an ORDER BY at parenthesis depth zero (not only inside an aggregate,
// window or subquery). Quoted text is skipped.
func Ordered(sql string) bool {
	upper := strings.ToUpper(sql)
	depth := 0
	for i := 0; i < len(upper); i++ {
		switch c := upper[i]; c {
		case '\'', '"':
			j := strings.IndexByte(upper[i+1:], c)
			if j < 0 {
				return false
			}
			i += j + 1
		case '(':
			depth++
		case ')':
			depth--
		case 'O':
			if depth == 0 && strings.HasPrefix(upper[i:], "ORDER") && wordBoundary(upper, i, i+5) &&
				strings.HasPrefix(strings.TrimLeft(upper[i+5:], " \t\r\n"), "BY") {
				return true
			}
		}
	}
	return false
}

func wordBoundary(s string, start, end int) bool {
	isWord := func(b byte) bool { return b == '_' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' }
	return (start == 0 || !isWord(s[start-1])) && (end >= len(s) || !isWord(s[end]))
}
