package pgval

import (
	"testing"
	"time"
)

// fuzzOIDs are the types the fuzzers pick from (by index, so every input
// maps to a real type).
var fuzzOIDs = func() []OID {
	var out []OID
	for _, t := range Types() {
		out = append(out, t.OID)
	}
	return out
}()

func fuzzOID(i uint16) OID { return fuzzOIDs[int(i)%len(fuzzOIDs)] }

var fuzzZones = []string{"UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"}

// FuzzParse: Parse never panics, and what it accepts formats to a fixed
// point (Format∘Parse is idempotent) in text and survives a binary round trip.
func FuzzParse(f *testing.F) {
	for _, c := range []struct {
		oid OID
		s   string
	}{
		{Int4OID, "0x_1F"}, {NumericOID, "1.50e1"}, {TimestamptzOID, "2024-01-02 03:04:05+02"},
		{IntervalOID, "-1 day +02:00"}, {JSONBOID, `{"b":[1,2.50],"a":1}`}, {Int4ArrayOID, "{1,NULL}"},
		{ByteaOID, `\x0102`}, {UUIDOID, "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}"}, {DateOID, "0044-03-15 BC"},
		{TimeOID, "24:00:00"}, {TextArrayOID, `{"a\"b",\\c}`}, {Float4OID, "1e-45"},
	} {
		for i, o := range fuzzOIDs {
			if o == c.oid {
				f.Add(uint16(i), c.s, uint8(0))
			}
		}
	}
	f.Fuzz(func(t *testing.T, oidIdx uint16, s string, zone uint8) {
		oid := fuzzOID(oidIdx)
		loc, err := LoadLocation(fuzzZones[int(zone)%len(fuzzZones)])
		if err != nil {
			t.Fatal(err)
		}
		v, err := Parse(oid, s, loc)
		// Text reaches Parse only after pgwire's UTF-8 check; invalid bytes
		// must not panic but carry no round-trip promise.
		if err != nil || CheckUTF8([]byte(s)) != nil {
			return
		}
		out, err := Format(oid, v, loc)
		if err != nil {
			t.Fatalf("Format(%d, Parse(%q) = %#v): %v", oid, s, v, err)
		}
		v2, err := Parse(oid, out, loc)
		if err != nil {
			t.Fatalf("Parse(%d, %q) (output of %q): %v", oid, out, s, err)
		}
		if out2, _ := Format(oid, v2, loc); out2 != out {
			t.Fatalf("%d: %q → %q → %q: not a fixed point", oid, s, out, out2)
		}
		if !HasBinary(oid) {
			return
		}
		b, err := EncodeBinary(oid, v)
		if err != nil {
			t.Fatalf("EncodeBinary(%d, %#v) from %q: %v", oid, v, s, err)
		}
		v3, err := DecodeBinary(oid, b)
		if err != nil {
			t.Fatalf("DecodeBinary(%d, %x) from %q: %v", oid, b, s, err)
		}
		if out3, _ := Format(oid, v3, loc); out3 != out {
			t.Fatalf("%d: %q binary round trip printed %q, text printed %q", oid, s, out3, out)
		}
	})
}

// FuzzDecodeBinary: DecodeBinary never panics, and what it accepts encodes
// back to bytes that decode to the same value.
func FuzzDecodeBinary(f *testing.F) {
	seeds := []struct {
		oid OID
		b   []byte
	}{
		{Int4OID, []byte{0, 0, 0, 1}},
		{NumericOID, []byte{0, 2, 0, 1, 0x40, 0, 0, 3, 0, 1, 0x09, 0x29}},
		{Int4ArrayOID, []byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 23, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}},
		{JSONBOID, []byte("\x01{\"a\": 1}")},
		{IntervalOID, make([]byte, 16)},
		{TimestamptzOID, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{TextOID, []byte("héllo")},
	}
	for _, s := range seeds {
		for i, o := range fuzzOIDs {
			if o == s.oid {
				f.Add(uint16(i), s.b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, oidIdx uint16, b []byte) {
		oid := fuzzOID(oidIdx)
		v, err := DecodeBinary(oid, b)
		if err != nil {
			return
		}
		enc, err := EncodeBinary(oid, v)
		if err != nil {
			t.Fatalf("EncodeBinary(%d, %#v) from %x: %v", oid, v, b, err)
		}
		v2, err := DecodeBinary(oid, enc)
		if err != nil {
			t.Fatalf("DecodeBinary(%d, %x) re-decode: %v", oid, enc, err)
		}
		t1, err1 := Format(oid, v, time.UTC)
		t2, err2 := Format(oid, v2, time.UTC)
		if t1 != t2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("%d: %x → %q, re-encoded %x → %q", oid, b, t1, enc, t2)
		}
	})
}
