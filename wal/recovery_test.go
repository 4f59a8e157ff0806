package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

// fixture is an intact log of 60 records in several segments, plus what
// the scanner learned about it (record offsets per segment).
type fixture struct {
	fs       *faultfs.FS
	mode     PreallocMode
	segBytes int64
	segs     []*scannedSegment
}

const fixtureSegBytes = 2048

func newFixture(t *testing.T, mode PreallocMode) *fixture {
	t.Helper()
	fs := newFaultFS(t, 21)
	l := mustOpenMode(t, fs, fixtureSegBytes, mode)
	appendN(t, l, 60, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := scanDir(fs, testDir, nil)
	if err != nil || res.corrupt != nil || len(res.segs) < 3 {
		t.Fatalf("fixture: %v %v %d segments", err, res.corrupt, len(res.segs))
	}
	want := int64(fixtureSegBytes)
	for _, s := range res.segs {
		if mode == PreallocOff {
			want = s.size
		}
		if s.fileSize != want || (s.hdr.Version == segmentVersion2) != (mode != PreallocOff) {
			t.Fatalf("fixture segment %s: version %d, %d bytes", s.path, s.hdr.Version, s.fileSize)
		}
	}
	return &fixture{fs: fs, mode: mode, segBytes: fixtureSegBytes, segs: res.segs}
}

func (f *fixture) opts() Options { return testOpts(f.fs, f.segBytes, f.mode) }

// putAt overwrites b at off with p, growing b when needed: at the end of the
// records it appends to a version-1 segment and overwrites the zeros of a
// preallocated one.
func putAt(b []byte, off int64, p []byte) []byte {
	if end := off + int64(len(p)); end > int64(len(b)) {
		b = append(b, make([]byte, end-int64(len(b)))...)
	}
	copy(b[off:], p)
	return b
}

func (f *fixture) last() *scannedSegment { return f.segs[len(f.segs)-1] }

func (f *fixture) read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := f.fs.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// write replaces path's contents durably.
func (f *fixture) write(t *testing.T, path string, b []byte) {
	t.Helper()
	h, err := f.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if err := h.Sync(); err != nil {
		t.Fatal(err)
	}
	_ = h.Close()
	if err := f.fs.SyncDir(testDir); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) edit(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	f.write(t, path, fn(f.read(t, path)))
}

// resign recomputes the CRC of the record at off so the damage is "valid".
func resign(b []byte, off int64) {
	n := binary.LittleEndian.Uint32(b[off:])
	rec := b[off : off+RecordHeaderBytes+int64(n)]
	binary.LittleEndian.PutUint32(rec[4:], recordCRC(rec))
}

// rewriteHeader re-encodes segment s's header after fn changed it.
func (f *fixture) rewriteHeader(t *testing.T, s *scannedSegment, fn func(*segmentHeader)) {
	t.Helper()
	f.edit(t, s.path, func(b []byte) []byte {
		h := s.hdr
		fn(&h)
		copy(b, h.encode())
		return b
	})
}

type expect struct {
	status Status
	file   func(*fixture) string
	offset func(*fixture) int64
	index  func(*fixture) uint64
	// For TornTail: the last index Open keeps.
	lastAfter func(*fixture) uint64
	reason    string // substring of the CorruptError reason
	// otherRecords: the log does not hold mkRecs records; the caller checks
	// the contents itself.
	otherRecords bool
}

// Which segment versions a decision-table case applies to.
const (
	bothVersions = iota
	v1Only
	v2Only
)

func TestRecoveryDecisionTable(t *testing.T) {
	lastSeg := func(f *fixture) string { return f.last().path }
	seg := func(i int) func(*fixture) string { return func(f *fixture) string { return f.segs[i].path } }
	recOff := func(si, k int) func(*fixture) int64 {
		return func(f *fixture) int64 {
			s := f.last()
			if si >= 0 {
				s = f.segs[si]
			}
			if k < 0 {
				k += len(s.offs)
			}
			return s.offs[k]
		}
	}
	lastRecOff := func(back int) func(*fixture) int64 {
		return func(f *fixture) int64 { return f.last().offs[len(f.last().offs)-1-back] }
	}
	idx := func(i uint64) func(*fixture) uint64 { return func(*fixture) uint64 { return i } }
	firstOf := func(i int) func(*fixture) uint64 { return func(f *fixture) uint64 { return f.segs[i].hdr.First } }
	zero := func(*fixture) int64 { return 0 }
	seg1 := func(f *fixture) *scannedSegment { return f.segs[1] }

	endOfRecords := func(f *fixture) int64 { return f.last().size }
	cases := []struct {
		row    string
		name   string
		mutate func(t *testing.T, f *fixture)
		want   expect
		only   int // bothVersions, v1Only or v2Only
	}{
		{"R2", "leftover tmp segment", func(t *testing.T, f *fixture) {
			f.write(t, filepath.Join(testDir, segmentName(99, 61)+tmpSuffix), []byte("partial"))
		}, expect{status: TornTail, lastAfter: idx(60)}, bothVersions},
		{"R3", "segments superseded by an interrupted reset", func(t *testing.T, f *fixture) {
			h := segmentHeader{Flags: flagBase, Seq: f.last().hdr.Seq + 1, First: 1001, PrevTerm: 77, PrevHash: [32]byte{7}}
			f.write(t, filepath.Join(testDir, segmentName(h.Seq, h.First)), h.encode())
		}, expect{status: TornTail, lastAfter: idx(1000)}, bothVersions},
		{"R4", "unparseable segment name", func(t *testing.T, f *fixture) {
			f.write(t, filepath.Join(testDir, "junk.wal"), []byte("x"))
		}, expect{status: Corrupt, file: func(*fixture) string { return filepath.Join(testDir, "junk.wal") }, offset: zero, index: idx(0), reason: "not a valid segment name"}, bothVersions},
		{"R5", "short segment header", func(t *testing.T, f *fixture) {
			f.edit(t, f.segs[1].path, func(b []byte) []byte { return b[:40] })
		}, expect{status: Corrupt, file: seg(1), offset: zero, index: firstOf(1), reason: "incomplete"}, bothVersions},
		{"R5", "segment header bad CRC", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { b[30] ^= 1; return b })
		}, expect{status: Corrupt, file: lastSeg, offset: zero, index: func(f *fixture) uint64 { return f.last().hdr.First }, reason: "checksum"}, bothVersions},
		{"R5", "empty segment file", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { return nil })
		}, expect{status: Corrupt, file: lastSeg, offset: zero, index: func(f *fixture) uint64 { return f.last().hdr.First }, reason: "incomplete"}, bothVersions},
		{"R5", "header disagrees with name", func(t *testing.T, f *fixture) {
			f.rewriteHeader(t, seg1(f), func(h *segmentHeader) { h.First++ })
		}, expect{status: Corrupt, file: seg(1), offset: zero, index: firstOf(1), reason: "disagrees with its file name"}, bothVersions},
		{"R5", "unknown format version", func(t *testing.T, f *fixture) {
			f.edit(t, f.segs[1].path, func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[8:], 3)
				binary.LittleEndian.PutUint32(b[76:], crcOf(b[:76]))
				return b
			})
		}, expect{status: Corrupt, file: seg(1), offset: zero, index: firstOf(1), reason: "version"}, bothVersions},
		{"R6", "missing middle segment", func(t *testing.T, f *fixture) {
			if err := f.fs.Remove(f.segs[1].path); err != nil {
				t.Fatal(err)
			}
		}, expect{status: Corrupt, file: seg(2), offset: zero, index: firstOf(1), reason: "missing segment"}, bothVersions},
		{"R7", "index gap between segments", func(t *testing.T, f *fixture) {
			s := f.segs[1]
			b := f.read(t, s.path)
			h := s.hdr
			h.First++
			copy(b, h.encode())
			if err := f.fs.Remove(s.path); err != nil {
				t.Fatal(err)
			}
			f.write(t, filepath.Join(testDir, segmentName(h.Seq, h.First)), b)
		}, expect{status: Corrupt, file: func(f *fixture) string {
			return filepath.Join(testDir, segmentName(f.segs[1].hdr.Seq, f.segs[1].hdr.First+1))
		}, offset: zero, index: firstOf(1), reason: "index gap"}, bothVersions},
		{"R8", "segment header previous hash wrong", func(t *testing.T, f *fixture) {
			f.rewriteHeader(t, seg1(f), func(h *segmentHeader) { h.PrevHash[0] ^= 1 })
		}, expect{status: Corrupt, file: seg(1), offset: zero, index: firstOf(1), reason: "broken chain"}, bothVersions},
		{"R8", "segment header previous term wrong", func(t *testing.T, f *fixture) {
			f.rewriteHeader(t, seg1(f), func(h *segmentHeader) { h.PrevTerm++ })
		}, expect{status: Corrupt, file: seg(1), offset: zero, index: firstOf(1), reason: "previous term"}, bothVersions},
		{"R9", "torn record in a sealed segment", func(t *testing.T, f *fixture) {
			f.edit(t, f.segs[0].path, func(b []byte) []byte { return b[:f.segs[0].size-5] })
		}, expect{status: Corrupt, file: seg(0), offset: recOff(0, -1), index: func(f *fixture) uint64 { return f.segs[1].hdr.First - 1 }, reason: "sealed"}, bothVersions},
		{"R9", "bad CRC in a sealed segment's last record", func(t *testing.T, f *fixture) {
			f.edit(t, f.segs[0].path, func(b []byte) []byte { b[f.segs[0].size-1] ^= 0x80; return b })
		}, expect{status: Corrupt, file: seg(0), offset: recOff(0, -1), index: func(f *fixture) uint64 { return f.segs[1].hdr.First - 1 }, reason: "sealed"}, bothVersions},
		{"R9", "garbage in a sealed segment's zero tail", func(t *testing.T, f *fixture) {
			f.edit(t, f.segs[0].path, func(b []byte) []byte { b[len(b)-1] = 1; return b })
		}, expect{status: Corrupt, file: seg(0), offset: func(f *fixture) int64 { return f.segs[0].size }, index: firstOf(1), reason: "sealed"}, v2Only},
		{"R10", "valid CRC, wrong index on the last record", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte {
				off := lastRecOff(0)(f)
				binary.LittleEndian.PutUint64(b[off+8:], 9999)
				resign(b, off)
				return b
			})
		}, expect{status: Corrupt, file: lastSeg, offset: lastRecOff(0), index: idx(60), reason: "index gap"}, bothVersions},
		{"R10", "duplicated record", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte {
				return putAt(b, endOfRecords(f), bytes.Clone(b[lastRecOff(0)(f):endOfRecords(f)]))
			})
		}, expect{status: Corrupt, file: lastSeg, offset: endOfRecords, index: idx(61), reason: "index gap"}, bothVersions},
		{"R10", "valid CRC, term regression", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte {
				off := lastRecOff(0)(f)
				binary.LittleEndian.PutUint64(b[off+16:], 0)
				resign(b, off)
				return b
			})
		}, expect{status: Corrupt, file: lastSeg, offset: lastRecOff(0), index: idx(60), reason: "term regression"}, bothVersions},
		{"R10", "valid CRC, broken chain hash", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte {
				off := lastRecOff(0)(f)
				b[off+50] ^= 1
				resign(b, off)
				return b
			})
		}, expect{status: Corrupt, file: lastSeg, offset: lastRecOff(0), index: idx(60), reason: "broken chain"}, bothVersions},
		{"R10", "valid CRC, data changed in a sealed segment", func(t *testing.T, f *fixture) {
			f.edit(t, f.segs[0].path, func(b []byte) []byte {
				off := f.segs[0].offs[1]
				b[off+RecordHeaderBytes] ^= 1
				resign(b, off)
				return b
			})
		}, expect{status: Corrupt, file: seg(0), offset: recOff(0, 1), index: idx(2), reason: "broken chain"}, bothVersions},
		{"R10", "valid CRC, reserved byte set", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte {
				off := lastRecOff(0)(f)
				b[off+26] = 1
				resign(b, off)
				return b
			})
		}, expect{status: Corrupt, file: lastSeg, offset: lastRecOff(0), index: idx(60), reason: "reserved"}, bothVersions},
		{"R11", "zero-filled hole followed by data", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte {
				off := f.last().offs[0]
				clear(b[off:f.last().offs[1]])
				return b
			})
		}, expect{status: Corrupt, file: lastSeg, offset: recOff(-1, 0), index: func(f *fixture) uint64 { return f.last().hdr.First }, reason: "followed by a valid record"}, bothVersions},
		{"R11", "bad CRC in the next-to-last record", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { b[lastRecOff(1)(f)+RecordHeaderBytes] ^= 4; return b })
		}, expect{status: Corrupt, file: lastSeg, offset: lastRecOff(1), index: idx(59), reason: "followed by a valid record"}, bothVersions},
		{"R11", "length field damaged mid-log", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { b[lastRecOff(1)(f)+1] ^= 0x40; return b })
		}, expect{status: Corrupt, file: lastSeg, offset: lastRecOff(1), index: idx(59), reason: "followed by a valid record"}, bothVersions},
		{"R11", "valid record far beyond the zeros", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte {
				return putAt(b, endOfRecords(f)+50, bytes.Clone(b[lastRecOff(0)(f):endOfRecords(f)]))
			})
		}, expect{status: Corrupt, file: lastSeg, offset: endOfRecords, index: idx(61), reason: "followed by a valid record"}, v2Only},
		{"R12", "short header at the tail", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte {
				return putAt(b, endOfRecords(f), appendRecord(nil, &mkRecs(61, 1)[0], [32]byte{})[:30])
			})
		}, expect{status: TornTail, file: lastSeg, offset: endOfRecords, index: idx(61), lastAfter: idx(60)}, bothVersions},
		{"R12", "short payload at the tail", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { return b[:len(b)-3] })
		}, expect{status: TornTail, file: lastSeg, offset: lastRecOff(0), index: idx(60), lastAfter: idx(59)}, v1Only},
		{"R12", "last bytes of the last record zeroed", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { clear(b[endOfRecords(f)-3 : endOfRecords(f)]); return b })
		}, expect{status: TornTail, file: lastSeg, offset: lastRecOff(0), index: idx(60), lastAfter: idx(59)}, bothVersions},
		{"R12", "bad CRC on the last record", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { b[endOfRecords(f)-1] ^= 1; return b })
		}, expect{status: TornTail, file: lastSeg, offset: lastRecOff(0), index: idx(60), lastAfter: idx(59)}, bothVersions},
		{"R12", "zeros after the last record", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { return append(b, make([]byte, 5000)...) })
		}, expect{status: TornTail, file: lastSeg, offset: endOfRecords, index: idx(61), lastAfter: idx(60)}, v1Only},
		{"R12", "garbage after the last record", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { return putAt(b, endOfRecords(f), bytes.Repeat([]byte("garbage!"), 100)) })
		}, expect{status: TornTail, file: lastSeg, offset: endOfRecords, index: idx(61), lastAfter: idx(60)}, bothVersions},
		{"R12", "zero header, then garbage at the end of the zeros", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { b[len(b)-1] = 0xEE; return b })
		}, expect{status: TornTail, file: lastSeg, offset: endOfRecords, index: idx(61), lastAfter: idx(60)}, v2Only},
		{"R12", "last record zeroed", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { clear(b[lastRecOff(0)(f):]); return b })
		}, expect{status: TornTail, file: lastSeg, offset: lastRecOff(0), index: idx(60), lastAfter: idx(59)}, v1Only},
		{"R13", "last record zeroed: zeros to the end are the clean end", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { clear(b[lastRecOff(0)(f):]); return b })
		}, expect{status: Intact, lastAfter: idx(59)}, v2Only},
		{"R13", "records reach the end of the file (no zeros left)", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte { return b[:endOfRecords(f)] })
		}, expect{status: Intact, lastAfter: idx(60)}, v2Only},
		{"R14", "a spare file", func(t *testing.T, f *fixture) {
			f.write(t, filepath.Join(testDir, spareName), make([]byte, fixtureSegBytes))
		}, expect{status: Intact, lastAfter: idx(60)}, bothVersions},
		{"R14", "a spare file of another size", func(t *testing.T, f *fixture) {
			f.write(t, filepath.Join(testDir, spareName), []byte("short"))
		}, expect{status: Intact, lastAfter: idx(60)}, bothVersions},
		{"R2", "leftover spare being prepared", func(t *testing.T, f *fixture) {
			f.write(t, filepath.Join(testDir, spareName+tmpSuffix), make([]byte, 100))
		}, expect{status: TornTail, lastAfter: idx(60)}, bothVersions},
		{"R12", "length claims more than the file holds", func(t *testing.T, f *fixture) {
			f.edit(t, f.last().path, func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[lastRecOff(0)(f):], MaxDataBytes)
				return b
			})
		}, expect{status: TornTail, file: lastSeg, offset: lastRecOff(0), index: idx(60), lastAfter: idx(59)}, bothVersions},
		{"R13", "intact", func(*testing.T, *fixture) {}, expect{status: Intact, lastAfter: idx(60)}, bothVersions},
	}
	for _, v := range []struct {
		name string
		mode PreallocMode
		skip int
	}{{"v1", PreallocOff, v2Only}, {"v2", PreallocBackground, v1Only}} {
		for _, c := range cases {
			if c.only == v.skip {
				continue
			}
			t.Run(v.name+"/"+c.row+" "+c.name, func(t *testing.T) {
				f := newFixture(t, v.mode)
				c.mutate(t, f)
				checkDecision(t, f, c.want)
			})
		}
	}
}

func crcOf(b []byte) uint32 { return crc32c(b) }

func checkDecision(t *testing.T, f *fixture, want expect) {
	t.Helper()
	r, err := Verify(f.fs, testDir)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if r.Status != want.status {
		t.Fatalf("status %v, want %v (%v)", r.Status, want.status, r)
	}
	if r.ExitCode() != map[Status]int{Intact: 0, TornTail: 2, Corrupt: 1}[want.status] {
		t.Fatalf("exit code %d", r.ExitCode())
	}
	if want.file != nil && (r.File != want.file(f) || r.Offset != want.offset(f) || r.Index != want.index(f)) {
		t.Fatalf("located at %s:%d index %d, want %s:%d index %d (%v)", r.File, r.Offset, r.Index,
			want.file(f), want.offset(f), want.index(f), r.Err)
	}
	before := snapshotFiles(t, f)
	l, err := Open(f.opts())
	if want.status == Corrupt {
		ce, ok := isCorrupt(err)
		if !ok {
			t.Fatalf("Open: %v, want a *CorruptError", err)
		}
		if !strings.Contains(ce.Reason, want.reason) || ce.File != r.File || ce.Offset != r.Offset || ce.Index != r.Index {
			t.Fatalf("Open error %v differs from Verify %v or lacks %q", ce, r, want.reason)
		}
		if after := snapshotFiles(t, f); !equalFiles(before, after) {
			t.Fatal("Open modified a corrupt log")
		}
		return
	}
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if l.LastIndex() != want.lastAfter(f) {
		t.Fatalf("after recovery LastIndex %d, want %d", l.LastIndex(), want.lastAfter(f))
	}
	if l.FirstIndex() <= 60 && !want.otherRecords {
		checkContents(t, l, 1, l.LastIndex())
	}
	// Recovery is durable: a crash right after Open changes nothing.
	_ = l.Close()
	f.fs.Crash()
	mustVerify(t, f.fs, Intact)
	if want.status == TornTail && want.file != nil && f.mode != PreallocOff {
		// A preallocated segment keeps its size: the torn bytes were zeroed.
		name := filepath.Base(want.file(f))
		if got := f.read(t, want.file(f)); len(got) != len(before[name]) {
			t.Fatalf("torn-tail repair changed the preallocated size: %d -> %d", len(before[name]), len(got))
		}
	}
	l, err = Open(f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if l.LastIndex() != want.lastAfter(f) {
		t.Fatalf("recovery not durable: LastIndex %d", l.LastIndex())
	}
	_ = l.Close()
}

func snapshotFiles(t *testing.T, f *fixture) map[string][]byte {
	t.Helper()
	names, err := f.fs.ReadDir(testDir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		out[n] = f.read(t, filepath.Join(testDir, n))
	}
	return out
}

func equalFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func TestRecoveryEmptyDirectory(t *testing.T) {
	fs := newFaultFS(t, 22)
	if err := fs.MkdirAll(testDir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := mustVerify(t, fs, Intact)
	if r.Segments != 0 || r.LastIndex != 0 {
		t.Fatalf("%+v", r)
	}
	l := mustOpen(t, fs, 1024)
	if !l.Created() {
		t.Fatal("R1: not created")
	}
	_ = l.Close()
	// The new log survives a crash: its directory and segment are durable.
	fs.Crash()
	r = mustVerify(t, fs, Intact)
	if r.Segments != 1 {
		t.Fatalf("after crash: %+v", r)
	}
}

func TestUnknownFilesAreLeftAlone(t *testing.T) {
	f := newFixture(t, PreallocBackground)
	f.write(t, filepath.Join(testDir, "README"), []byte("operator notes"))
	mustVerify(t, f.fs, Intact)
	l := mustOpen(t, f.fs, fixtureSegBytes)
	_ = l.Close()
	if _, err := f.fs.ReadFile(filepath.Join(testDir, "README")); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptionFoundOnRead(t *testing.T) {
	f := newFixture(t, PreallocBackground)
	l := mustOpen(t, f.fs, fixtureSegBytes)
	defer l.Close()
	// Damage after Open: readers must notice, never hand out bad data.
	if err := f.fs.FlipBit(f.segs[1].path, f.segs[1].offs[0]+RecordHeaderBytes, 0); err != nil {
		t.Fatal(err)
	}
	err := l.ReadFrom(1, func(Record) error { return nil })
	ce, ok := isCorrupt(err)
	if !ok || ce.File != f.segs[1].path || ce.Offset != f.segs[1].offs[0] || ce.Index != f.segs[1].hdr.First {
		t.Fatalf("ReadFrom: %v", err)
	}
	if _, err := l.ChainHash(f.segs[1].hdr.First); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ChainHash: %v", err)
	}
}

func TestDump(t *testing.T) {
	f := newFixture(t, PreallocBackground)
	var out bytes.Buffer
	if err := Dump(f.fs, testDir, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 60 {
		t.Fatalf("%d lines", len(lines))
	}
	r := mkRecs(7, 1)[0]
	h := expectedHash([32]byte{}, 1, 7)
	want := strings.Join([]string{"7", u(r.Term), u(uint64(r.Type)), u(uint64(r.BlockTime)), u(uint64(len(r.Data))), hex8(h)}, " ")
	if lines[6] != want {
		t.Fatalf("line 7 = %q, want %q", lines[6], want)
	}
	// Corruption: the records before it, then the error.
	f.edit(t, f.segs[1].path, func(b []byte) []byte { b[100] ^= 1; return b })
	out.Reset()
	err := Dump(f.fs, testDir, &out)
	if _, ok := isCorrupt(err); !ok {
		t.Fatalf("Dump of a corrupt log: %v", err)
	}
	if n := strings.Count(out.String(), "\n"); n != int(f.segs[1].hdr.First-1) {
		t.Fatalf("dumped %d records before the corruption, want %d", n, f.segs[1].hdr.First-1)
	}
}
