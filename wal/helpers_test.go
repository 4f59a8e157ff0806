package wal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chr2sql/chr2sql/vfs"
	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

const testDir = "/data/wal"

// testData is the deterministic payload of index i: its length varies so
// records straddle segment boundaries in different ways.
func testData(i uint64) []byte {
	n := int(i*37%300) + 1
	seed := sha256.Sum256(binary.LittleEndian.AppendUint64(nil, i))
	return bytes.Repeat(seed[:], n/32+1)[:n]
}

// testTerm gives non-decreasing terms: a new term every 17 indexes.
func testTerm(i uint64) uint64 { return i/17 + 1 }

func mkRecs(from, n uint64) []Record {
	out := make([]Record, 0, n)
	for i := from; i < from+n; i++ {
		out = append(out, Record{Index: i, Term: testTerm(i), Type: uint8(i % 3), BlockTime: int64(i) * 1000, Data: testData(i)})
	}
	return out
}

func newFaultFS(t testing.TB, seed int64) *faultfs.FS {
	t.Helper()
	fs := faultfs.New(seed)
	if err := fs.MkdirAll("/data", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := fs.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	return fs
}

// testMode is one segment layout; mode-sensitive tests run in each.
type testMode struct {
	name string
	mode PreallocMode
}

var testModes = []testMode{
	{"spare", PreallocBackground}, // preallocated, next segment prepared ahead (inline in tests)
	{"inline", PreallocInline},    // preallocated on the rollover path
	{"off", PreallocOff},          // version-1 segments that grow
}

// testOpts are deterministic Options for faultfs tests: the spare segment of
// PreallocBackground is prepared on the triggering goroutine, so the order of
// file system steps (and so CrashAfter) is reproducible.
func testOpts(fs vfs.FS, segBytes int64, mode PreallocMode) Options {
	return Options{Dir: testDir, FS: fs, SegmentBytes: segBytes, Preallocate: mode, spareInline: true}
}

func mustOpen(t testing.TB, fs vfs.FS, segBytes int64) *Log {
	t.Helper()
	return mustOpenMode(t, fs, segBytes, PreallocBackground)
}

func mustOpenMode(t testing.TB, fs vfs.FS, segBytes int64, mode PreallocMode) *Log {
	t.Helper()
	l, err := Open(testOpts(fs, segBytes, mode))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

// appendN appends records next..next+n-1 in batches of batch.
func appendN(t testing.TB, l *Log, n, batch uint64) {
	t.Helper()
	for done := uint64(0); done < n; {
		k := min(batch, n-done)
		if err := l.Append(mkRecs(l.LastIndex()+1, k)); err != nil {
			t.Fatalf("Append: %v", err)
		}
		done += k
	}
}

func readAll(t testing.TB, l *Log) []Record {
	t.Helper()
	var out []Record
	if err := l.ReadFrom(l.FirstIndex(), func(r Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("ReadFrom: %v", err)
	}
	return out
}

// checkContents asserts the log holds exactly the mkRecs records first..last.
func checkContents(t testing.TB, l *Log, first, last uint64) {
	t.Helper()
	if l.FirstIndex() != first || l.LastIndex() != last {
		t.Fatalf("range [%d, %d], want [%d, %d]", l.FirstIndex(), l.LastIndex(), first, last)
	}
	got := readAll(t, l)
	if uint64(len(got)) != last-first+1 {
		t.Fatalf("read %d records, want %d", len(got), last-first+1)
	}
	for k, r := range got {
		want := mkRecs(first+uint64(k), 1)[0]
		if r.Index != want.Index || r.Term != want.Term || r.Type != want.Type || r.BlockTime != want.BlockTime || !bytes.Equal(r.Data, want.Data) {
			t.Fatalf("record %d differs: %+v", want.Index, r)
		}
	}
	if last >= first && l.LastTerm() != testTerm(last) {
		t.Fatalf("LastTerm %d want %d", l.LastTerm(), testTerm(last))
	}
}

// expectedHash computes the chain hash of mkRecs record i from the base hash
// at index base, independently of the log.
func expectedHash(base [32]byte, from, i uint64) [32]byte {
	h := base
	for _, r := range mkRecs(from, i-from+1) {
		h = chainHash(h, &r)
	}
	return h
}

func segPaths(t testing.TB, fs vfs.FS) []string {
	t.Helper()
	names, err := fs.ReadDir(testDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if filepath.Ext(n) == segmentSuffix {
			out = append(out, filepath.Join(testDir, n))
		}
	}
	return out
}

func mustVerify(t testing.TB, fs vfs.FS, want Status) Report {
	t.Helper()
	r, err := Verify(fs, testDir)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if r.Status != want {
		t.Fatalf("Verify: %v, want %v", r, want)
	}
	return r
}

func isCorrupt(err error) (*CorruptError, bool) {
	var ce *CorruptError
	ok := errors.As(err, &ce)
	return ce, ok && errors.Is(err, ErrCorrupt)
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

func hex8(h [32]byte) string { return hex.EncodeToString(h[:8]) }
