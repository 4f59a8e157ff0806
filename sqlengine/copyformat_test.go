package sqlengine

import (
	"errors"
	"strings"
	"testing"
)

func readAll(t testing.TB, data string, f copyFormat, ncols int) ([][]*string, error) {
	t.Helper()
	cr := newCopyReader(strings.NewReader(data), f, ncols)
	var rows [][]*string
	for {
		row, err := cr.next()
		if errors.Is(err, errCopyEnd) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

func show(rows [][]*string) string {
	var b strings.Builder
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				b.WriteByte('|')
			}
			if v == nil {
				b.WriteString("<null>")
			} else {
				b.WriteString(*v)
			}
		}
		b.WriteByte(';')
	}
	return b.String()
}

var textFormat = copyFormat{delim: '\t', null: `\N`}
var csvFormat = copyFormat{csv: true, delim: ',', quote: '"', escape: '"'}

func TestCopyTextEscapes(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a\tb\n", "a|b;"},
		{"a\\tb\t\\N\n", "a\tb|<null>;"},
		{"\\x41\\101\\\\\tx\\\ty\r\n", "AA\\|x\ty;"},
		{"last\tline-without-newline", "last|line-without-newline;"},
		{"a\tb\n\\.\nignored\tafter end\n", "a|b;"},
		{"\t\n", "|;"},
	}
	for _, c := range cases {
		rows, err := readAll(t, c.in, textFormat, 2)
		if err != nil || show(rows) != c.want {
			t.Errorf("%q: %q %v, want %q", c.in, show(rows), err, c.want)
		}
	}
}

func TestCopyCSVQuoting(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a,b\n", "a|b;"},
		{",\"\"\n", "<null>|;"},
		{"\"x,y\",\"he said \"\"hi\"\"\"\n", "x,y|he said \"hi\";"},
		{"\"two\nlines\",z\r\n", "two\nlines|z;"},
		{"\\.,x\n\\.\n", "\\.|x;"},
	}
	for _, c := range cases {
		rows, err := readAll(t, c.in, csvFormat, 2)
		if err != nil || show(rows) != c.want {
			t.Errorf("%q: %q %v, want %q", c.in, show(rows), err, c.want)
		}
	}
	if _, err := readAll(t, "\"open,x\n", csvFormat, 2); err == nil {
		t.Fatal("unterminated quote accepted")
	}
}

// FuzzCopyRoundTrip checks that what the writer produces, the reader reads
// back unchanged, in both formats.
func FuzzCopyRoundTrip(f *testing.F) {
	f.Add("plain", "with\ttab", false)
	f.Add("back\\slash", "\\N", true)
	f.Add("new\nline\r", "\"q\",", false)
	f.Add("", "\\.", true)
	f.Fuzz(func(t *testing.T, a, b string, null bool) {
		if !validUTF8(a) || !validUTF8(b) {
			return
		}
		row := []*string{&a, &b}
		if null {
			row[1] = nil
		}
		for _, fm := range []copyFormat{textFormat, csvFormat} {
			data := string(appendCopyRow(nil, row, fm))
			rows, err := readAll(t, data, fm, 2)
			if err != nil || len(rows) != 1 || show(rows) != show([][]*string{row}) {
				t.Fatalf("format csv=%v: %q read back as %q (%v)", fm.csv, data, show(rows), err)
			}
		}
	})
}

func validUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
