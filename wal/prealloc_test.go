package wal

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/vfs"
	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

const preallocSegBytes = 16 << 10

func fileSize(t testing.TB, fsys vfs.FS, path string) int64 {
	t.Helper()
	st, err := fsys.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func headerOf(t testing.TB, fsys vfs.FS, path string) segmentHeader {
	t.Helper()
	b, err := readHeader(fsys, path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := decodeSegmentHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestAppendsOverwritePreallocatedZeros: a new log's segment is version 2,
// zero-filled to SegmentBytes before it appears; appends keep the file size
// and are made durable with fdatasync only.
func TestAppendsOverwritePreallocatedZeros(t *testing.T) {
	fs := newFaultFS(t, 41)
	l := mustOpenMode(t, fs, preallocSegBytes, PreallocInline)
	defer l.Close()
	seg := segPaths(t, fs)[0]
	if h := headerOf(t, fs, seg); h.Version != segmentVersion2 || fileSize(t, fs, seg) != preallocSegBytes {
		t.Fatalf("new segment: version %d, %d bytes", h.Version, fileSize(t, fs, seg))
	}
	if st := l.Stats(); st.SegmentsFilledInline != 1 || st.SegmentsFromSpare != 0 {
		t.Fatalf("stats after Open: %+v", st)
	}
	syncs, datasyncs := fs.Calls(faultfs.OpSync), fs.Calls(faultfs.OpDatasync)
	for i := uint64(1); i <= 10; i++ {
		if err := l.Append(mkRecs(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if got := fs.Calls(faultfs.OpSync) - syncs; got != 0 {
		t.Fatalf("appends ran %d fsyncs, want fdatasync only", got)
	}
	if got := fs.Calls(faultfs.OpDatasync) - datasyncs; got != 10 {
		t.Fatalf("%d fdatasyncs for 10 appends", got)
	}
	if fileSize(t, fs, seg) != preallocSegBytes {
		t.Fatalf("appends changed the preallocated size to %d", fileSize(t, fs, seg))
	}
	fs.Crash() // everything acknowledged is durable, and the zeros after it are the clean end
	mustVerify(t, fs, Intact)
	l2 := mustOpenMode(t, fs, preallocSegBytes, PreallocInline)
	defer l2.Close()
	checkContents(t, l2, 1, 10)
}

// TestSpareBecomesTheNextSegment: once the tail is half full a spare is
// prepared (zero-filled, durable); the rollover turns it into the next
// segment, and a spare left at Close survives a crash and is used after it.
func TestSpareBecomesTheNextSegment(t *testing.T) {
	fs := newFaultFS(t, 42)
	l := mustOpenMode(t, fs, preallocSegBytes, PreallocBackground)
	spare := filepath.Join(testDir, spareName)
	for l.tailSize()*2 < preallocSegBytes {
		appendN(t, l, 1, 1)
		if _, err := fs.Stat(spare); err == nil && l.tailSize()*2 < preallocSegBytes {
			t.Fatal("spare prepared before the tail was half full")
		}
	}
	if fileSize(t, fs, spare) != preallocSegBytes {
		t.Fatalf("spare has %d bytes", fileSize(t, fs, spare))
	}
	for len(segPaths(t, fs)) == 1 {
		appendN(t, l, 1, 1)
	}
	if st := l.Stats(); st.SegmentsFromSpare != 1 || st.SegmentsFilledInline != 1 {
		t.Fatalf("stats after the rollover: %+v", st)
	}
	second := segPaths(t, fs)[1]
	if h := headerOf(t, fs, second); h.Version != segmentVersion2 || fileSize(t, fs, second) != preallocSegBytes {
		t.Fatalf("segment from spare: version %d, %d bytes", h.Version, fileSize(t, fs, second))
	}
	for l.tailSize()*2 < preallocSegBytes { // the next spare is ready when Close runs
		appendN(t, l, 1, 1)
	}
	last := l.LastIndex()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	fs.Crash()
	mustVerify(t, fs, Intact) // a spare is not part of the log
	creates := fs.Calls(faultfs.OpCreate)
	l = mustOpenMode(t, fs, preallocSegBytes, PreallocBackground)
	defer l.Close()
	for len(segPaths(t, fs)) == 2 {
		appendN(t, l, 1, 1)
	}
	if st := l.Stats(); st.SegmentsFromSpare != 1 || fs.Calls(faultfs.OpCreate) != creates {
		t.Fatalf("the spare kept across the crash was not used: %+v, %d creates", st, fs.Calls(faultfs.OpCreate)-creates)
	}
	checkContents(t, l, 1, l.LastIndex())
	if l.LastIndex() <= last {
		t.Fatal("no progress")
	}
}

func (l *Log) tailSize() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tail().size
}

// TestBackgroundPreparer runs the real preparer goroutine: every rollover
// finds its segment prepared (or waits for it) and none is filled inline.
func TestBackgroundPreparer(t *testing.T) {
	ffs := newFaultFS(t, 43)
	l, err := Open(Options{Dir: testDir, FS: ffs, SegmentBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 300, 2)
	st := l.Stats()
	segs := uint64(len(segPaths(t, ffs)))
	if st.SegmentsFilledInline != 1 || st.SegmentsFromSpare != segs-1 || segs < 10 {
		t.Fatalf("%d segments, stats %+v", segs, st)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ffs.Stat(filepath.Join(testDir, spareName+tmpSuffix)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Close left a spare being prepared: %v", err)
	}
	mustVerify(t, ffs, Intact)
	l = mustOpen(t, ffs, 4<<10)
	defer l.Close()
	checkContents(t, l, 1, 300)
}

// blockFS (test-only) blocks the first write to the spare being prepared
// until released, so a test can close the log in the middle of preparation.
type blockFS struct {
	vfs.FS
	blocked atomic.Bool
	entered chan struct{}
	release chan struct{}
}

type blockFile struct {
	vfs.File
	b    *blockFS
	name string
}

func (b *blockFS) Create(name string) (vfs.File, error) {
	f, err := b.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &blockFile{File: f, b: b, name: name}, nil
}

func (f *blockFile) WriteAt(p []byte, off int64) (int, error) {
	if strings.HasSuffix(f.name, spareName+tmpSuffix) && f.b.blocked.CompareAndSwap(false, true) {
		f.b.entered <- struct{}{}
		<-f.b.release
	}
	return f.File.WriteAt(p, off)
}

// TestCloseCancelsPreparation: Close during a background preparation waits
// for it, removes the unfinished spare and leaves an intact log; a rollover
// that was waiting for that spare fills its segment inline instead of
// hanging.
func TestCloseCancelsPreparation(t *testing.T) {
	ffs := newFaultFS(t, 44)
	b := &blockFS{FS: ffs, entered: make(chan struct{}), release: make(chan struct{})}
	l, err := Open(Options{Dir: testDir, FS: b, SegmentBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < 200 && err == nil; i++ {
			err = l.Append(mkRecs(l.LastIndex()+1, 1))
		}
		done <- err
	}()
	<-b.entered // the preparer is inside its first zero-fill write
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	waitFor(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.spareStopped
	})
	close(b.release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil && !errors.Is(err, ErrClosed) {
		t.Fatalf("appender: %v", err)
	}
	if _, err := ffs.Stat(filepath.Join(testDir, spareName+tmpSuffix)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unfinished spare left behind: %v", err)
	}
	mustVerify(t, ffs, Intact)
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached before the deadline")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSpareFsyncFailurePoisons: a failed fsync of the spare is fatal like
// every failed fsync; a failed create only makes the rollover fill inline.
func TestSpareFsyncFailurePoisons(t *testing.T) {
	fs := newFaultFS(t, 45)
	l := mustOpenMode(t, fs, preallocSegBytes, PreallocBackground)
	fs.Inject(faultfs.Fault{Op: faultfs.OpSync, Name: spareName + tmpSuffix})
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		err = l.Append(mkRecs(l.LastIndex()+1, 1))
	}
	if !errors.Is(err, ErrFsyncFailed) || !errors.Is(err, ErrPoisoned) {
		t.Fatalf("failed spare fsync: %v", err)
	}

	fs = newFaultFS(t, 46)
	l = mustOpenMode(t, fs, preallocSegBytes, PreallocBackground)
	defer l.Close()
	fs.Inject(faultfs.Fault{Op: faultfs.OpCreate, Name: spareName + tmpSuffix})
	for len(segPaths(t, fs)) < 3 {
		appendN(t, l, 1, 1)
	}
	if st := l.Stats(); st.SegmentsFilledInline != 2 || st.SegmentsFromSpare != 1 {
		t.Fatalf("after a failed spare creation: %+v (want one inline rollover, then spares again)", st)
	}
}

// TestTruncateSuffixKeepsPreallocation: dropping a few records zeroes them
// in place (one fdatasync per record, no truncate); dropping many truncates
// and re-fills. Either way the segment keeps its preallocated size, the
// dropped bytes read as zeros and the log verifies as intact.
func TestTruncateSuffixKeepsPreallocation(t *testing.T) {
	for _, refill := range []bool{false, true} {
		fs := newFaultFS(t, 47)
		l := mustOpenMode(t, fs, 1<<20, PreallocInline)
		if refill {
			l.maxZeroInPlace = 0
		}
		appendN(t, l, 40, 4)
		seg := segPaths(t, fs)[0]
		truncs, datasyncs := fs.Calls(faultfs.OpTruncate), fs.Calls(faultfs.OpDatasync)
		if err := l.TruncateSuffix(31); err != nil {
			t.Fatal(err)
		}
		gotTruncs, gotDatasyncs := fs.Calls(faultfs.OpTruncate)-truncs, fs.Calls(faultfs.OpDatasync)-datasyncs
		if (!refill && (gotTruncs != 0 || gotDatasyncs != 10)) || (refill && (gotTruncs != 1 || gotDatasyncs != 1)) {
			t.Fatalf("refill=%v: %d truncates, %d fdatasyncs", refill, gotTruncs, gotDatasyncs)
		}
		if fileSize(t, fs, seg) != 1<<20 {
			t.Fatalf("refill=%v: size %d after TruncateSuffix", refill, fileSize(t, fs, seg))
		}
		b, _ := fs.ReadFile(seg)
		if end := zeroTailStart(b, SegmentHeaderBytes); end != l.tailSize() {
			t.Fatalf("refill=%v: non-zero bytes up to %d, records end at %d", refill, end, l.tailSize())
		}
		appendN(t, l, 5, 2)
		_ = l.Close()
		fs.Crash()
		mustVerify(t, fs, Intact)
		l = mustOpenMode(t, fs, 1<<20, PreallocInline)
		checkContents(t, l, 1, 35)
		_ = l.Close()
	}
}

// TestMixedVersions: a log written without preallocation continues with
// preallocated segments and back; every layout reads every other.
func TestMixedVersions(t *testing.T) {
	fs := newFaultFS(t, 48)
	var last uint64
	for round, mode := range []PreallocMode{PreallocOff, PreallocBackground, PreallocOff, PreallocInline} {
		l := mustOpenMode(t, fs, 2048, mode)
		checkContents(t, l, 1, last)
		appendN(t, l, 25, 3)
		last += 25
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		fs.CrashTorn()
		mustVerify(t, fs, Intact)
		paths := segPaths(t, fs)
		if h := headerOf(t, fs, paths[len(paths)-1]); (h.Version == segmentVersion2) != (mode != PreallocOff) {
			t.Fatalf("round %d (%v): last segment has version %d", round, mode, h.Version)
		}
	}
	l := mustOpen(t, fs, 2048)
	defer l.Close()
	checkContents(t, l, 1, last)
}

// TestResetUsesSpare: Reset takes the spare as its base segment.
func TestResetUsesSpare(t *testing.T) {
	fs := newFaultFS(t, 49)
	l := mustOpenMode(t, fs, preallocSegBytes, PreallocBackground)
	defer l.Close()
	for l.tailSize()*2 < preallocSegBytes {
		appendN(t, l, 1, 1)
	}
	base := [32]byte{1, 2, 3}
	if err := l.Reset(500, 9, base); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.SegmentsFromSpare != 1 {
		t.Fatalf("Reset did not use the spare: %+v", st)
	}
	paths := segPaths(t, fs)
	if len(paths) != 1 || headerOf(t, fs, paths[0]).Flags&flagBase == 0 || fileSize(t, fs, paths[0]) != preallocSegBytes {
		t.Fatalf("after Reset: %v", paths)
	}
	if err := l.Append([]Record{{Index: 501, Term: 9, Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if h, err := l.ChainHash(500); err != nil || h != base {
		t.Fatalf("base hash: %v", err)
	}
}

// TestSpareOfAnotherSizeIsReplaced: a spare left by a run with another
// SegmentBytes is not used; the next preparation replaces it.
func TestSpareOfAnotherSizeIsReplaced(t *testing.T) {
	fs := newFaultFS(t, 50)
	l := mustOpenMode(t, fs, preallocSegBytes, PreallocBackground)
	_ = l.Close()
	f := &fixture{fs: fs}
	f.write(t, filepath.Join(testDir, spareName), make([]byte, 100))
	l = mustOpenMode(t, fs, preallocSegBytes, PreallocBackground)
	defer l.Close()
	for len(segPaths(t, fs)) == 1 {
		appendN(t, l, 1, 1)
	}
	if st := l.Stats(); st.SegmentsFromSpare != 1 || st.SegmentsFilledInline != 0 {
		t.Fatalf("stats: %+v", st)
	}
	if h := headerOf(t, fs, segPaths(t, fs)[1]); h.Version != segmentVersion2 || fileSize(t, fs, segPaths(t, fs)[1]) != preallocSegBytes {
		t.Fatalf("segment made from the replaced spare: %+v", h)
	}
}
