package wal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	recs := []Record{
		{Index: 1, Term: 1, Type: 0, BlockTime: 0, Data: nil},
		{Index: 2, Term: 3, Type: 2, BlockTime: -5, Data: []byte("hello")},
		{Index: 1<<63 + 7, Term: 1<<64 - 1, Type: 255, BlockTime: 1 << 62, Data: bytes.Repeat([]byte{0xAB}, 5000)},
	}
	var prev [32]byte
	for _, r := range recs {
		h := chainHash(prev, &r)
		b := appendRecord(nil, &r, h)
		if len(b) != RecordHeaderBytes+len(r.Data) {
			t.Fatalf("encoded size %d", len(b))
		}
		got, gotHash, n, err := decodeRecord(append(b, 1, 2, 3))
		if err != nil || n != len(b) || gotHash != h {
			t.Fatalf("decode: n=%d err=%v", n, err)
		}
		if got.Index != r.Index || got.Term != r.Term || got.Type != r.Type || got.BlockTime != r.BlockTime || !bytes.Equal(got.Data, r.Data) {
			t.Fatalf("round trip: got %+v want %+v", got, r)
		}
		if !bytes.Equal(appendRecord(nil, &r, h), b) {
			t.Fatal("encoding not deterministic")
		}
		prev = h
	}
}

// TestChainHashSpec recomputes the chain hash from the documented formula
// with independent code, so a change to the hashed bytes cannot go unnoticed.
func TestChainHashSpec(t *testing.T) {
	prev := sha256.Sum256([]byte("base"))
	r := Record{Index: 0x0102030405060708, Term: 9, Type: 1, BlockTime: -2, Data: []byte("payload")}
	var in []byte
	in = append(in, prev[:]...)
	in = binary.LittleEndian.AppendUint64(in, r.Index)
	in = binary.LittleEndian.AppendUint64(in, r.Term)
	in = append(in, r.Type)
	in = binary.LittleEndian.AppendUint64(in, uint64(r.BlockTime))
	in = append(in, r.Data...)
	if want := sha256.Sum256(in); chainHash(prev, &r) != want {
		t.Fatal("chain hash differs from the documented formula")
	}
	// The documented byte layout and CRC.
	b := appendRecord(nil, &r, prev)
	if binary.LittleEndian.Uint32(b[0:]) != 7 || binary.LittleEndian.Uint64(b[8:]) != r.Index ||
		binary.LittleEndian.Uint64(b[16:]) != 9 || b[24] != 1 || int64(binary.LittleEndian.Uint64(b[32:])) != -2 ||
		!bytes.Equal(b[40:72], prev[:]) || string(b[72:]) != "payload" {
		t.Fatalf("layout differs from doc.go: %x", b)
	}
	tab := crc32.MakeTable(crc32.Castagnoli)
	want := crc32.Checksum(append(append([]byte{}, b[0:4]...), b[8:]...), tab)
	if binary.LittleEndian.Uint32(b[4:]) != want {
		t.Fatal("record CRC differs from doc.go")
	}
}

func TestDecodeErrors(t *testing.T) {
	r := Record{Index: 5, Term: 2, Data: []byte("abcdef")}
	good := appendRecord(nil, &r, [32]byte{1})
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, errShortHeader},
		{"short header", good[:RecordHeaderBytes-1], errShortHeader},
		{"short payload", good[:len(good)-1], errShortPayload},
		{"too large", func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint32(b, MaxDataBytes+1)
			return b
		}(), errTooLarge},
		{"bad crc", func() []byte { b := bytes.Clone(good); b[73] ^= 1; return b }(), errBadCRC},
		{"reserved", func() []byte {
			b := bytes.Clone(good)
			b[27] = 1
			binary.LittleEndian.PutUint32(b[4:], recordCRC(b))
			return b
		}(), errReserved},
	}
	for _, c := range cases {
		if _, _, _, err := decodeRecord(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v want %v", c.name, err, c.want)
		}
	}
	if !plausibleAt(good) || plausibleAt(good[1:]) || plausibleAt(make([]byte, 200)) {
		t.Error("plausibleAt misclassifies")
	}
}

func TestNextPlausible(t *testing.T) {
	r := Record{Index: 1, Term: 1, Data: []byte("x")}
	rec := appendRecord(nil, &r, [32]byte{})
	for _, gap := range []int{0, 1, 71, 72, 73, 500} {
		b := append(make([]byte, gap), rec...)
		b = append(b, make([]byte, 10)...)
		if p := nextPlausible(b, 0); p != int64(gap) {
			t.Errorf("gap %d: found at %d", gap, p)
		}
	}
	if p := nextPlausible(make([]byte, 10000), 0); p != -1 {
		t.Errorf("zeros: %d", p)
	}
}

func TestSegmentHeaderAndName(t *testing.T) {
	for _, v := range []uint32{segmentVersion1, segmentVersion2} {
		h := segmentHeader{Version: v, Flags: flagBase, Seq: 7, First: 99, PrevTerm: 4, PrevHash: [32]byte{9}}
		b := h.encode()
		got, err := decodeSegmentHeader(b)
		if err != nil || got != h {
			t.Fatalf("header round trip: %+v %v", got, err)
		}
		for i := range b {
			c := bytes.Clone(b)
			c[i] ^= 0x10
			if _, err := decodeSegmentHeader(c); err == nil {
				t.Fatalf("version %d: flip at %d accepted", v, i)
			}
		}
	}
	// The zero Version encodes as 1; 3 is unknown even with a valid CRC.
	if got, err := decodeSegmentHeader((&segmentHeader{Seq: 1, First: 1}).encode()); err != nil || got.Version != segmentVersion1 {
		t.Fatalf("zero version: %+v %v", got, err)
	}
	if _, err := decodeSegmentHeader((&segmentHeader{Version: 3, Seq: 1, First: 1}).encode()); err == nil ||
		!strings.Contains(err.Error(), "version 3") {
		t.Fatalf("version 3 accepted: %v", err)
	}
	name := segmentName(7, 99)
	if name != "0000000000000007-0000000000000063.wal" {
		t.Fatalf("name %q", name)
	}
	if seq, first, ok := parseSegmentName(name); !ok || seq != 7 || first != 99 {
		t.Fatalf("parse: %d %d %v", seq, first, ok)
	}
	for _, bad := range []string{"7-99.wal", "0000000000000007-0000000000000063.wa", "000000000000000G-0000000000000063.wal",
		"0000000000000007_0000000000000063.wal", "0000000000000007-000000000000006A.wal"} {
		if _, _, ok := parseSegmentName(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
	if segmentName(1, 2) >= segmentName(1, 10) || segmentName(9, 1) >= segmentName(10, 1) {
		t.Error("lexical order is not log order")
	}
}

// FuzzDecodeRecord: the decoder never panics, and whatever it accepts
// re-encodes to exactly the bytes it consumed.
func FuzzDecodeRecord(f *testing.F) {
	r := Record{Index: 3, Term: 2, Type: 1, BlockTime: 1700000000000000, Data: []byte("insert into t values (1)")}
	good := appendRecord(nil, &r, chainHash([32]byte{}, &r))
	f.Add(good)
	f.Add(good[:40])
	f.Add(make([]byte, RecordHeaderBytes))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, hash, n, err := decodeRecord(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error with n=%d", n)
			}
			return
		}
		if n < RecordHeaderBytes || n > len(b) {
			t.Fatalf("n=%d len=%d", n, len(b))
		}
		if again := appendRecord(nil, &rec, hash); !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoding differs")
		}
		if !plausibleAt(b) {
			t.Fatal("decodable record not plausible")
		}
		_ = nextPlausible(b, 1)
	})
}

// FuzzSegmentHeader: the header decoder never panics and accepts only what
// re-encodes identically.
func FuzzSegmentHeader(f *testing.F) {
	f.Add((&segmentHeader{Flags: flagBase, Seq: 1, First: 1}).encode())
	f.Add((&segmentHeader{Seq: 9, First: 12345, PrevTerm: 3, PrevHash: [32]byte{1, 2}}).encode())
	f.Add([]byte("chr2wal\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeSegmentHeader(b)
		if err != nil {
			return
		}
		if !bytes.Equal(h.encode(), b[:SegmentHeaderBytes]) {
			t.Fatal("accepted header does not re-encode identically")
		}
	})
}
