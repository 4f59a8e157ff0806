package sqlengine

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chr2sql/chr2sql/pgerr"
)

// COPY's text and CSV formats, as PostgreSQL reads and writes them. The
// reader turns a stream of COPY data into rows of fields (nil = NULL); the
// writer does the reverse. Both are pure: no I/O beyond the reader/writer
// they are given.

// copyFormat is the subset of COPY's options that shape the data.
type copyFormat struct {
	csv          bool
	delim        byte
	null         string
	quote        byte
	escape       byte
	header       bool
	forceNull    map[int]bool // CSV: quoted empty field of these columns is NULL too
	forceNotNull map[int]bool // CSV: unquoted null string of these columns is ""
}

// maxCopyLineBytes bounds one line (row) of COPY data (54000 beyond).
const maxCopyLineBytes = 64 << 20

// copyReader reads rows of COPY data.
type copyReader struct {
	f     copyFormat
	r     *bufio.Reader
	ncols int
	names []string // column names for messages; may be nil
	line  int      // 1-based number of the last line read
	done  bool
}

func newCopyReader(r io.Reader, f copyFormat, ncols int) *copyReader {
	return &copyReader{f: f, r: bufio.NewReaderSize(r, 64<<10), ncols: ncols}
}

// errCopyEnd marks the end of the data ("\." or the end of the stream).
var errCopyEnd = errors.New("sqlengine: end of COPY data")

// next returns the next row's fields; errCopyEnd after the last row.
func (cr *copyReader) next() ([]*string, error) {
	for {
		if cr.done {
			return nil, errCopyEnd
		}
		line, err := cr.readRecord()
		if err != nil {
			return nil, err
		}
		if line == nil {
			cr.done = true
			return nil, errCopyEnd
		}
		if cr.line == 1 && cr.f.header {
			continue
		}
		var fields []*string
		if cr.f.csv {
			fields, err = cr.splitCSV(line)
		} else {
			fields, err = cr.splitText(line)
		}
		if err != nil {
			return nil, err
		}
		if len(fields) != cr.ncols {
			return nil, cr.fieldCountError(len(fields))
		}
		return fields, nil
	}
}

func (cr *copyReader) fieldCountError(n int) error {
	if n > cr.ncols {
		return pgerr.New(pgerr.BadCopyFileFormat, "extra data after last expected column")
	}
	if n < len(cr.names) {
		return pgerr.New(pgerr.BadCopyFileFormat, "missing data for column %q", cr.names[n])
	}
	return pgerr.New(pgerr.BadCopyFileFormat, "missing data for column %d", n+1)
}

// readRecord reads one record: a line, or for CSV as many lines as a quoted
// field spans. nil means the end of the data.
func (cr *copyReader) readRecord() ([]byte, error) {
	var rec []byte
	inQuote := false
	for {
		part, err := cr.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			rec = append(rec, part...)
			if len(rec) > maxCopyLineBytes {
				return nil, pgerr.New(pgerr.ProgramLimitExceeded, "COPY line %d is longer than %d bytes", cr.line+1, maxCopyLineBytes)
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		rec = append(rec, part...)
		atEOF := errors.Is(err, io.EOF)
		if len(rec) == 0 && atEOF {
			return nil, nil
		}
		if cr.f.csv {
			inQuote = cr.quoteState(part, inQuote)
			if inQuote && !atEOF {
				continue
			}
			if inQuote {
				return nil, pgerr.New(pgerr.BadCopyFileFormat, "unterminated CSV quoted field")
			}
		}
		cr.line++
		body := bytes.TrimSuffix(bytes.TrimSuffix(rec, []byte{'\n'}), []byte{'\r'})
		if string(body) == `\.` {
			return nil, nil
		}
		if !utf8.Valid(body) {
			return nil, pgerr.New(pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\" (line %d)", cr.line)
		}
		return body, nil
	}
}

// quoteState tracks whether a CSV record is inside a quoted field at the
// end of part.
func (cr *copyReader) quoteState(part []byte, in bool) bool {
	q, e := cr.f.quote, cr.f.escape
	for i := 0; i < len(part); i++ {
		c := part[i]
		switch {
		case in && c == e && e != q && i+1 < len(part) && (part[i+1] == q || part[i+1] == e):
			i++
		case in && c == q && e == q && i+1 < len(part) && part[i+1] == q:
			i++
		case c == q:
			in = !in
		}
	}
	return in
}

// splitText splits a text-format line at unescaped delimiters and decodes
// backslash escapes; a field equal to the null string (before decoding)
// is NULL.
func (cr *copyReader) splitText(line []byte) ([]*string, error) {
	var fields []*string
	start := 0
	for i := 0; i <= len(line); i++ {
		if i < len(line) && line[i] == '\\' {
			i++
			continue
		}
		if i < len(line) && line[i] != cr.f.delim {
			continue
		}
		raw := string(line[start:min(i, len(line))])
		start = i + 1
		if raw == cr.f.null {
			fields = append(fields, nil)
			continue
		}
		v := decodeTextField(raw)
		fields = append(fields, &v)
	}
	return fields, nil
}

// decodeTextField undoes COPY text format's backslash escapes.
func decodeTextField(raw string) string {
	if !strings.Contains(raw, `\`) {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			b.WriteByte(c)
			continue
		}
		i++
		switch c = raw[i]; c {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'x':
			j := i + 1
			for j < len(raw) && j < i+3 && isHex(raw[j]) {
				j++
			}
			if j == i+1 {
				b.WriteByte('x')
				continue
			}
			n, _ := strconv.ParseUint(raw[i+1:j], 16, 8)
			b.WriteByte(byte(n))
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(raw) && j < i+3 && raw[j] >= '0' && raw[j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(raw[i:j], 8, 16)
			b.WriteByte(byte(n))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// splitCSV splits a CSV record. An unquoted field equal to the null string
// is NULL; a quoted one never is (unless FORCE_NULL).
func (cr *copyReader) splitCSV(rec []byte) ([]*string, error) {
	f := cr.f
	var fields []*string
	i := 0
	for col := 0; ; col++ {
		var b strings.Builder
		quoted, sawQuote := false, false
		for i < len(rec) {
			c := rec[i]
			switch {
			case quoted && c == f.escape && i+1 < len(rec) && (rec[i+1] == f.quote || rec[i+1] == f.escape) &&
				(f.escape != f.quote || rec[i+1] == f.quote):
				b.WriteByte(rec[i+1])
				i += 2
				continue
			case c == f.quote:
				quoted = !quoted
				sawQuote = true
				i++
				continue
			case !quoted && c == f.delim:
			default:
				b.WriteByte(c)
				i++
				continue
			}
			break
		}
		v := b.String()
		switch {
		case !sawQuote && v == f.null && !f.forceNotNull[col]:
			fields = append(fields, nil)
		case sawQuote && v == "" && f.forceNull[col]:
			fields = append(fields, nil)
		default:
			fields = append(fields, &v)
		}
		if i >= len(rec) {
			return fields, nil
		}
		i++ // the delimiter
	}
}

// appendCopyText appends one value in text format.
func appendCopyText(dst []byte, v *string, f copyFormat) []byte {
	if v == nil {
		return append(dst, f.null...)
	}
	s := *v
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\v':
			dst = append(dst, '\\', 'v')
		default:
			if c == f.delim {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
		}
	}
	return dst
}

// appendCopyCSV appends one value in CSV format, quoted when it must be.
func appendCopyCSV(dst []byte, v *string, f copyFormat) []byte {
	if v == nil {
		return append(dst, f.null...)
	}
	s := *v
	needs := s == f.null || s == `\.` || strings.IndexByte(s, f.delim) >= 0 || strings.IndexByte(s, f.quote) >= 0 ||
		strings.ContainsAny(s, "\r\n")
	if !needs {
		return append(dst, s...)
	}
	dst = append(dst, f.quote)
	for i := 0; i < len(s); i++ {
		if s[i] == f.quote || s[i] == f.escape {
			dst = append(dst, f.escape)
		}
		dst = append(dst, s[i])
	}
	return append(dst, f.quote)
}

// appendCopyRow appends a row and its line end.
func appendCopyRow(dst []byte, row []*string, f copyFormat) []byte {
	for i, v := range row {
		if i > 0 {
			dst = append(dst, f.delim)
		}
		if f.csv {
			dst = appendCopyCSV(dst, v, f)
		} else {
			dst = appendCopyText(dst, v, f)
		}
	}
	return append(dst, '\n')
}
