package pgval

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestBinaryAgainstPgx cross-checks every successful text case of
// testdata/parse_format.txt with pgx's independent codecs: our binary
// encoding must equal pgx's, and decoding it must print the expected text.
func TestBinaryAgainstPgx(t *testing.T) {
	m := pgtype.NewMap()
	checked := 0
	for _, c := range loadTextCases(t) {
		ti, _ := LookupName(c.typ)
		if c.errCode != "" || !HasBinary(ti.OID) || c.zone != "" {
			continue
		}
		v, err := Parse(ti.OID, c.input, time.UTC)
		if err != nil {
			t.Fatalf("line %d: %v", c.line, err)
		}
		ours, err := EncodeBinary(ti.OID, v)
		if err != nil {
			t.Errorf("line %d: EncodeBinary(%s, %#v): %v", c.line, c.typ, v, err)
			continue
		}
		back, err := DecodeBinary(ti.OID, ours)
		if err != nil {
			t.Errorf("line %d: DecodeBinary(%s, %x): %v", c.line, c.typ, ours, err)
			continue
		}
		if got, _ := Format(ti.OID, back, time.UTC); got != c.output {
			t.Errorf("line %d: binary round trip of %q printed %q, want %q", c.line, c.input, got, c.output)
		}
		if pgxComparable(ti.OID) {
			var pv any
			if err := m.Scan(ti.OID, pgtype.TextFormatCode, []byte(c.output), &pv); err != nil {
				continue // pgx cannot read this text form (e.g. BC dates); nothing to compare
			}
			theirs, err := m.Encode(ti.OID, pgtype.BinaryFormatCode, pv, nil)
			if err != nil {
				continue
			}
			if !bytes.Equal(ours, theirs) {
				// pgx keeps trailing zero numeric groups and sends empty
				// arrays with one dimension; PostgreSQL (and we) strip both.
				// Those must still decode to the same value.
				fromPgx, err := DecodeBinary(ti.OID, theirs)
				got, _ := Format(ti.OID, fromPgx, time.UTC)
				if err != nil || got != c.output || !pgxMayDiffer(ti.OID) {
					t.Errorf("line %d: %s %q: ours %x, pgx %x (decodes to %q, %v)", c.line, c.typ, c.output, ours, theirs, got, err)
				}
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("only %d cases cross-checked with pgx", checked)
	}
}

func pgxMayDiffer(oid OID) bool {
	return oid == NumericOID || arrayElem(oid) != 0
}

// pgxComparable excludes types whose pgx text→Go→binary path is not an
// identity (json re-marshals; "char" and name have no distinct pgx codec).
func pgxComparable(oid OID) bool {
	switch oid {
	case JSONOID, JSONBOID, JSONBArrayOID, JSONArrayOID, CharOID, NameOID, TextOID, TextArrayOID:
		return false
	}
	return true
}

func TestBinaryGolden(t *testing.T) {
	cases := []struct {
		oid OID
		v   any
		hex string
	}{
		{Int2OID, int64(-2), "fffe"},
		{Int4OID, int64(1), "00000001"},
		{Int8OID, int64(-1), "ffffffffffffffff"},
		{OIDOID, int64(4294967295), "ffffffff"},
		{BoolOID, true, "01"},
		{Float8OID, 1.5, "3ff8000000000000"},
		{Float4OID, 1.5, "3fc00000"},
		{DateOID, time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC), "00000001"},
		{DateOID, InfinityTime, "7fffffff"},
		{TimestamptzOID, time.Date(2000, 1, 1, 0, 0, 1, 0, time.UTC), "00000000000f4240"},
		{TimestampOID, NegInfinityTime, "8000000000000000"},
		{NumericOID, "0", "0000000000000000"},
		{NumericOID, "-12345.678", "0003000140000003000109291a7c"},
		{NumericOID, "NaN", "00000000c0000000"},
		{NumericOID, "0.00", "0000000000000002"},
		{NumericOID, "10000", "0001000100000000" + "0001"},
		{JSONBOID, `{"a": 1}`, "01" + hex.EncodeToString([]byte(`{"a": 1}`))},
		{UUIDOID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc999c0b4ef8bb6d6bb9bd380a11"},
		{Int4ArrayOID, []any{int64(1), nil}, "00000001" + "00000001" + "00000017" + "00000002" + "00000001" +
			"00000004" + "00000001" + "ffffffff"},
		{Int4ArrayOID, []any{}, "00000000" + "00000000" + "00000017"},
		{Int4ArrayOID, []any{[]any{int64(1)}, []any{int64(2)}}, "00000002" + "00000000" + "00000017" +
			"00000002" + "00000001" + "00000001" + "00000001" + "00000004" + "00000001" + "00000004" + "00000002"},
		{IntervalOID, "1 mon 2 days 00:00:03", "00000000002dc6c0" + "00000002" + "00000001"},
		{TimeOID, "00:00:01.5", "000000000016e360"},
	}
	for _, c := range cases {
		got, err := EncodeBinary(c.oid, c.v)
		if err != nil {
			t.Errorf("EncodeBinary(%d, %v): %v", c.oid, c.v, err)
			continue
		}
		if hex.EncodeToString(got) != c.hex {
			t.Errorf("EncodeBinary(%d, %v) = %x, want %s", c.oid, c.v, got, c.hex)
		}
	}
}

func TestDecodeBinaryErrors(t *testing.T) {
	cases := []struct {
		oid  OID
		hex  string
		code pgerr.Code
	}{
		{Int4OID, "000001", pgerr.InvalidBinaryRepresentation},
		{Int8OID, "", pgerr.InvalidBinaryRepresentation},
		{TextOID, "61ff", pgerr.CharacterNotInRepertoire},
		{TextOID, "6100", pgerr.CharacterNotInRepertoire},
		{NumericOID, "0001000000000000270f", pgerr.SuccessfulCompletion},
		{NumericOID, "000100000000000027ff", pgerr.InvalidBinaryRepresentation},
		{NumericOID, "0000000012340000", pgerr.InvalidBinaryRepresentation},
		{NumericOID, "ffff000000000000", pgerr.InvalidBinaryRepresentation},
		{DateOID, "7ffffffe", pgerr.DatetimeFieldOverflow},
		{TimestampOID, "7ffffffffffffffe", pgerr.DatetimeFieldOverflow},
		{TimeOID, "ffffffffffffffff", pgerr.DatetimeFieldOverflow},
		{JSONBOID, "027b7d", pgerr.InvalidBinaryRepresentation},
		{JSONBOID, "017b", pgerr.InvalidTextRepresentation},
		{Int4ArrayOID, "00000001000000000000001a0000000100000001", pgerr.DatatypeMismatch},
		{Int4ArrayOID, "000000010000000000000017" + "7fffffff00000001", pgerr.InvalidBinaryRepresentation},
		{Int4ArrayOID, "000000070000000000000017", pgerr.ProgramLimitExceeded},
		{Int4ArrayOID, "000000020000000000000017", pgerr.InvalidBinaryRepresentation},
		{Int4ArrayOID, "000000020000000000000017" + "00000002000000010000000100000001" + "00000004000000010000000400000002" + "00", pgerr.InvalidBinaryRepresentation},
		{Int4ArrayOID, "00000001000000000000001700000001000000010000000500000000", pgerr.InvalidBinaryRepresentation},
		{RecordOID, "00", pgerr.FeatureNotSupported},
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		v, err := DecodeBinary(c.oid, b)
		if got := pgerr.CodeOf(err); got != c.code {
			t.Errorf("DecodeBinary(%d, %s) = %v, %v; want %s", c.oid, c.hex, v, err, c.code)
		}
	}
}

func TestFormatGoValues(t *testing.T) {
	ny, _ := LoadLocation("America/New_York")
	ts := time.Date(2024, 3, 5, 6, 7, 8, 123456789, time.UTC)
	cases := []struct {
		oid  OID
		v    any
		loc  *time.Location
		want string
	}{
		{BoolOID, int64(1), nil, "t"},
		{BoolOID, int64(0), nil, "f"},
		{BoolOID, "yes", nil, "t"},
		{TextOID, true, nil, "true"},
		{Int4OID, 7, nil, "7"},
		{Int4OID, float64(7), nil, "7"},
		{Int8OID, uint32(9), nil, "9"},
		{Float8OID, int64(3), nil, "3"},
		{Float4OID, float32(0.1), nil, "0.1"},
		{Float8OID, float64(float32(0.1)), nil, "0.10000000149011612"},
		{Float8OID, math.MaxFloat64, nil, "1.7976931348623157e+308"},
		{NumericOID, 1.25, nil, "1.25"},
		{NumericOID, int64(-3), nil, "-3"},
		{TimestamptzOID, ts, ny, "2024-03-05 01:07:08.123456-05"},
		{TimestamptzOID, ts, nil, "2024-03-05 06:07:08.123456+00"},
		{TimestampOID, ts, ny, "2024-03-05 06:07:08.123456"},
		{DateOID, ts, nil, "2024-03-05"},
		{TimeOID, ts, nil, "06:07:08.123456"},
		{TimestamptzOID, InfinityTime, ny, "infinity"},
		{IntervalOID, 90 * time.Minute, nil, "01:30:00"},
		{IntervalOID, Interval{Months: -14, Days: 3, Micros: -1}, nil, "-1 years -2 mons +3 days -00:00:00.000001"},
		{IntervalOID, Interval{Micros: math.MinInt64}, nil, "-2562047788:00:54.775808"},
		{ByteaOID, []byte{0xde, 0xad}, nil, `\xdead`},
		{ByteaOID, "AB", nil, `\x4142`},
		{TextOID, []byte("raw"), nil, "raw"},
		{CharOID, "\xe9", nil, `\351`},
		{Int4ArrayOID, []int64{1, 2}, nil, "{1,2}"},
		{Int4ArrayOID, []any{[]any{int64(1), nil}, []any{int64(3), int64(4)}}, nil, "{{1,NULL},{3,4}}"},
		{TextArrayOID, []string{"a b", ""}, nil, `{"a b",""}`},
		{TextArrayOID, []*string{nil}, nil, `{NULL}`},
		{ByteaArrayOID, [][]byte{{1}}, nil, `{"\\x01"}`},
		{TimestamptzArrayOID, []time.Time{ts}, ny, `{"2024-03-05 01:07:08.123456-05"}`},
	}
	for _, c := range cases {
		got, err := Format(c.oid, c.v, c.loc)
		if err != nil || got != c.want {
			t.Errorf("Format(%d, %#v) = %q, %v; want %q", c.oid, c.v, got, err, c.want)
		}
	}
	bad := []struct {
		oid OID
		v   any
	}{
		{Int4OID, 1.5},
		{DateOID, int64(1)},
		{Int4OID, struct{}{}},
		{Int4ArrayOID, int64(1)},
		{TimestamptzOID, "not a time"},
	}
	for _, c := range bad {
		if _, err := Format(c.oid, c.v, nil); err == nil {
			t.Errorf("Format(%d, %#v) succeeded", c.oid, c.v)
		}
	}
	if _, err := Format(Int4OID, nil, nil); !errors.Is(err, ErrNull) {
		t.Errorf("Format(nil) = %v, want ErrNull", err)
	}
}

func TestTimeDependentWords(t *testing.T) {
	for _, w := range []string{"now", " Today ", "tomorrow", "YESTERDAY"} {
		_, err := Parse(TimestamptzOID, w, nil)
		if !errors.Is(err, ErrTimeDependent) || pgerr.CodeOf(err) != pgerr.FeatureNotSupported {
			t.Errorf("Parse(%q) = %v, want ErrTimeDependent", w, err)
		}
	}
}

func TestLoadLocationRefusesHostZone(t *testing.T) {
	for _, name := range []string{"", "Local", "local", "../etc/passwd", "/etc/localtime", "a b"} {
		if _, err := LoadLocation(name); err == nil {
			t.Errorf("LoadLocation(%q) succeeded", name)
		}
	}
	if _, err := LoadLocation("Europe/Paris"); err != nil {
		t.Fatal(err)
	}
}

func TestCheckUTF8Messages(t *testing.T) {
	cases := map[string]string{
		"ok é":       "",
		"a\xffb":     `invalid byte sequence for encoding "UTF8": 0xff`,
		"a\xc3A":     `invalid byte sequence for encoding "UTF8": 0xc3 0x41`,
		"\xe2\x82":   `invalid byte sequence for encoding "UTF8": 0xe2 0x82`,
		"nul\x00end": `invalid byte sequence for encoding "UTF8": 0x00`,
	}
	for in, want := range cases {
		err := CheckUTF8String(in)
		got := ""
		if err != nil {
			got = err.(*pgerr.Error).Message
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// An interval whose microseconds are math.MinInt64 has a text form no
// parser accepts (PostgreSQL's neither): binary input refuses it instead of
// storing a value that could never be read back. Found by FuzzDecodeBinary.
func TestDecodeBinaryRefusesUnreadableInterval(t *testing.T) {
	b := []byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}
	if _, err := DecodeBinary(IntervalOID, b); pgerr.CodeOf(err) != pgerr.IntervalFieldOverflow {
		t.Fatalf("DecodeBinary of micros = MinInt64: %v, want 22015", err)
	}
}
