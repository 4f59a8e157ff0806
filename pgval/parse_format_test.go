package pgval

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
)

type textCase struct {
	line     int
	typ      string
	zone     string
	input    string
	output   string
	errCode  pgerr.Code
	errMatch string
}

// loadTextCases reads testdata/parse_format.txt (format described there).
func loadTextCases(t *testing.T) []textCase {
	t.Helper()
	f, err := os.Open("testdata/parse_format.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []textCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := textCase{line: n}
		head, rest, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("line %d: no input", n)
		}
		c.typ, c.zone, _ = strings.Cut(head, "@")
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			t.Fatalf("line %d: input: %v", n, err)
		}
		c.input, _ = strconv.Unquote(q)
		rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest[len(q):]), "=>"))
		if strings.HasPrefix(rest, "!") {
			code, msg, _ := strings.Cut(rest[1:], " ")
			c.errCode = pgerr.Code(code)
			if c.errMatch, err = strconv.Unquote(msg); err != nil {
				t.Fatalf("line %d: message: %v", n, err)
			}
		} else if c.output, err = strconv.Unquote(rest); err != nil {
			t.Fatalf("line %d: output: %v", n, err)
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	return cases
}

func TestParseFormatScenarios(t *testing.T) {
	for _, c := range loadTextCases(t) {
		ti, ok := LookupName(c.typ)
		if !ok {
			t.Fatalf("line %d: unknown type %q", c.line, c.typ)
		}
		loc := time.UTC
		if c.zone != "" {
			var err error
			if loc, err = LoadLocation(c.zone); err != nil {
				t.Fatalf("line %d: zone: %v", c.line, err)
			}
		}
		v, err := Parse(ti.OID, c.input, loc)
		if c.errCode != "" {
			var pe *pgerr.Error
			if !errors.As(err, &pe) || pe.Code != c.errCode || pe.Message != c.errMatch {
				t.Errorf("line %d: Parse(%s, %q) = %v, %v; want error %s %q", c.line, c.typ, c.input, v, err, c.errCode, c.errMatch)
			}
			continue
		}
		if err != nil {
			t.Errorf("line %d: Parse(%s, %q): %v", c.line, c.typ, c.input, err)
			continue
		}
		got, err := Format(ti.OID, v, loc)
		if err != nil || got != c.output {
			t.Errorf("line %d: Format(%s, Parse(%q)) = %q, %v; want %q", c.line, c.typ, c.input, got, err, c.output)
			continue
		}
		// Output is canonical: reading it back gives the same output.
		v2, err := Parse(ti.OID, got, loc)
		if err != nil {
			t.Errorf("line %d: re-Parse(%q): %v", c.line, got, err)
			continue
		}
		if again, _ := Format(ti.OID, v2, loc); again != got {
			t.Errorf("line %d: output %q is not a fixed point: %q", c.line, got, again)
		}
	}
}
