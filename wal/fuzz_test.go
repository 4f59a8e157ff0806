package wal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRecoverTail replaces the records of the last segment of a small log
// with arbitrary bytes (keeping a valid header) and checks that recovery
// never panics and that Verify and Open agree: Intact or TornTail means Open
// succeeds and leaves an Intact log holding a prefix of what verified;
// Corrupt means Open refuses with a *CorruptError at the same place.
func FuzzRecoverTail(f *testing.F) {
	r1 := Record{Index: 4, Term: 2, Data: []byte("four")}
	h1 := chainHash(fuzzBaseHash(), &r1)
	good := appendRecord(nil, &r1, h1)
	r2 := Record{Index: 5, Term: 2, Data: []byte("five")}
	good2 := appendRecord(good, &r2, chainHash(h1, &r2))
	f.Add([]byte{})
	f.Add(good)
	f.Add(good2)
	f.Add(good2[:len(good2)-2])
	f.Add(append(append([]byte{}, good...), make([]byte, 100)...))
	f.Add(append(make([]byte, 10), good2...))
	f.Fuzz(func(t *testing.T, tail []byte) {
		fs := newFaultFS(t, 1)
		if err := fs.MkdirAll(testDir, 0o755); err != nil {
			t.Fatal(err)
		}
		hdr := segmentHeader{Flags: flagBase, Seq: 1, First: 4, PrevTerm: 1, PrevHash: fuzzBaseHash()}
		path := filepath.Join(testDir, segmentName(1, 4))
		h, err := fs.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = h.WriteAt(append(hdr.encode(), tail...), 0)
		_ = h.Close()
		r, err := Verify(fs, testDir)
		if err != nil {
			t.Fatal(err)
		}
		l, err := Open(Options{Dir: testDir, FS: fs})
		if r.Status == Corrupt {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.File != r.File || ce.Offset != r.Offset || ce.Index != r.Index {
				t.Fatalf("Verify says corrupt (%v) but Open: %v", r, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Verify says %v but Open: %v", r, err)
		}
		if l.LastIndex() != r.LastIndex || l.FirstIndex() != 4 {
			t.Fatalf("Open kept [%d, %d], Verify promised last %d", l.FirstIndex(), l.LastIndex(), r.LastIndex)
		}
		n := 0
		if err := l.ReadFrom(4, func(Record) error { n++; return nil }); err != nil || n != r.Records {
			t.Fatalf("read back %d records (%v), Verify counted %d", n, err, r.Records)
		}
		_ = l.Close()
		if r2, _ := Verify(fs, testDir); r2.Status != Intact {
			t.Fatalf("after Open: %v", r2)
		}
	})
}

// FuzzRecoverPreallocTail is FuzzRecoverTail for a preallocated (version 2)
// last segment: the fuzzed bytes are followed by pad zero bytes, as in a
// zero-filled segment, and after recovery the file must keep its size (a torn
// tail is zeroed in place, never truncated).
func FuzzRecoverPreallocTail(f *testing.F) {
	r1 := Record{Index: 4, Term: 2, Data: []byte("four")}
	h1 := chainHash(fuzzBaseHash(), &r1)
	good := appendRecord(nil, &r1, h1)
	r2 := Record{Index: 5, Term: 2, Data: []byte("five")}
	good2 := appendRecord(good, &r2, chainHash(h1, &r2))
	f.Add([]byte{}, uint16(1000))
	f.Add(good, uint16(0))
	f.Add(good2, uint16(500))
	f.Add(good2[:len(good2)-2], uint16(500))
	f.Add(append(append([]byte{}, good...), 0, 0, 0, 7), uint16(100))
	f.Add(append(make([]byte, 100), good2...), uint16(10))
	f.Fuzz(func(t *testing.T, tail []byte, pad uint16) {
		fs := newFaultFS(t, 1)
		if err := fs.MkdirAll(testDir, 0o755); err != nil {
			t.Fatal(err)
		}
		hdr := segmentHeader{Version: segmentVersion2, Flags: flagBase, Seq: 1, First: 4, PrevTerm: 1, PrevHash: fuzzBaseHash()}
		path := filepath.Join(testDir, segmentName(1, 4))
		h, err := fs.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		content := append(append(hdr.encode(), tail...), make([]byte, pad)...)
		_, _ = h.WriteAt(content, 0)
		_ = h.Close()
		r, err := Verify(fs, testDir)
		if err != nil {
			t.Fatal(err)
		}
		l, err := Open(Options{Dir: testDir, FS: fs, SegmentBytes: 1 << 20, spareInline: true})
		if r.Status == Corrupt {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.File != r.File || ce.Offset != r.Offset || ce.Index != r.Index {
				t.Fatalf("Verify says corrupt (%v) but Open: %v", r, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Verify says %v but Open: %v", r, err)
		}
		if l.LastIndex() != r.LastIndex || l.FirstIndex() != 4 {
			t.Fatalf("Open kept [%d, %d], Verify promised last %d", l.FirstIndex(), l.LastIndex(), r.LastIndex)
		}
		_ = l.Close()
		if st, err := fs.Stat(path); err != nil || st.Size() != int64(len(content)) {
			t.Fatalf("recovery changed the preallocated size %d: %v %v", len(content), st, err)
		}
		if r2, _ := Verify(fs, testDir); r2.Status != Intact || r2.LastIndex != r.LastIndex {
			t.Fatalf("after Open: %v (before: %v)", r2, r)
		}
	})
}

func fuzzBaseHash() [32]byte { return [32]byte{0xB, 0xA, 0x5, 0xE} }
