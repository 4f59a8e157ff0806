package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chr2sql/chr2sql/vfs"
	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

// gateFS is a test-only wrapper whose segment fdatasyncs (the group-commit
// syncs) block until released, so a test can decide exactly which writes one
// round covers.
type gateFS struct {
	vfs.FS
	gated   atomic.Bool
	syncs   atomic.Int64
	entered chan struct{}
	release chan struct{}
}

type gateFile struct {
	vfs.File
	g    *gateFS
	name string
}

func (g *gateFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := g.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &gateFile{File: f, g: g, name: name}, nil
}

func (g *gateFS) Create(name string) (vfs.File, error) {
	f, err := g.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &gateFile{File: f, g: g, name: name}, nil
}

func (f *gateFile) Datasync() error {
	if f.g.gated.Load() && strings.HasSuffix(f.name, segmentSuffix) {
		f.g.syncs.Add(1)
		f.g.entered <- struct{}{}
		<-f.g.release
	}
	return f.File.Datasync()
}

// TestGroupCommitSharesOneFsync: while one fsync is in flight, two more
// appends are written; they must share the next fsync round, and neither may
// return before that round completes.
func TestGroupCommitSharesOneFsync(t *testing.T) {
	g := &gateFS{FS: newFaultFS(t, 11), entered: make(chan struct{}), release: make(chan struct{})}
	l := mustOpen(t, g, 1<<20)
	defer l.Close()
	g.gated.Store(true)

	first := make(chan error, 1)
	go func() { first <- l.Append(mkRecs(1, 1)) }()
	<-g.entered // round 1 is in flight and covers only record 1

	p2, err := l.AppendAsync(mkRecs(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	p3, err := l.AppendAsync(mkRecs(3, 2))
	if err != nil {
		t.Fatal(err)
	}
	var returned atomic.Int32
	errs := make(chan error, 2)
	for _, p := range []Pending{p2, p3} {
		go func() {
			err := p.Wait()
			returned.Add(1)
			errs <- err
		}()
	}
	g.release <- struct{}{} // finish round 1
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if l.LastIndex() != 1 {
		t.Fatalf("LastIndex %d after round 1, want 1 (records 2-4 are not durable yet)", l.LastIndex())
	}
	<-g.entered // round 2 started by one of the waiters
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d waiters returned before their fsync completed", n)
	}
	g.release <- struct{}{}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := g.syncs.Load(); got != 2 {
		t.Fatalf("%d fsync rounds for 3 appends, want 2", got)
	}
	g.gated.Store(false)
	checkContents(t, l, 1, 4)
}

func TestFsyncFailurePoisonsEverything(t *testing.T) {
	fs := newFaultFS(t, 12)
	l := mustOpen(t, fs, 1024)
	appendN(t, l, 10, 5)
	fs.Inject(faultfs.Fault{Op: faultfs.OpDatasync, Name: "*.wal"})
	err := l.Append(mkRecs(11, 1))
	if !errors.Is(err, ErrFsyncFailed) || !errors.Is(err, ErrPoisoned) {
		t.Fatalf("Append with failed fsync: %v", err)
	}
	// The fault fired once; the log must not retry or recover anyway.
	_, hashErr := l.ChainHash(5)
	_, termErr := l.Term(5)
	for name, err := range map[string]error{
		"append":    l.Append(mkRecs(12, 1)),
		"appendNil": l.Append(nil),
		"truncate":  l.TruncateSuffix(5),
		"compact":   l.CompactPrefix(5),
		"reset":     l.Reset(100, 1, [32]byte{}),
		"read":      l.ReadFrom(1, func(Record) error { return nil }),
		"chainHash": hashErr,
		"term":      termErr,
		"close":     l.Close(),
	} {
		if !errors.Is(err, ErrFsyncFailed) {
			t.Errorf("%s after failed fsync: %v", name, err)
		}
	}
	// What was acknowledged survives a crash; the unacknowledged record may
	// or may not, but recovery is clean.
	fs.Crash()
	l = mustOpen(t, fs, 1024)
	defer l.Close()
	if l.LastIndex() != 10 {
		t.Fatalf("after crash LastIndex %d, want 10", l.LastIndex())
	}
	checkContents(t, l, 1, 10)
}

func TestFsyncFailureFailsEveryWaiter(t *testing.T) {
	g := &gateFS{FS: newFaultFS(t, 13), entered: make(chan struct{}), release: make(chan struct{})}
	ffs := g.FS.(*faultfs.FS)
	l := mustOpen(t, g, 1<<20)
	g.gated.Store(true)
	first := make(chan error, 1)
	go func() { first <- l.Append(mkRecs(1, 1)) }()
	<-g.entered
	p2, err := l.AppendAsync(mkRecs(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	ffs.Inject(faultfs.Fault{Op: faultfs.OpDatasync, Name: "*.wal"})
	g.gated.Store(false)
	g.release <- struct{}{}
	if err := <-first; !errors.Is(err, ErrFsyncFailed) {
		t.Fatalf("first: %v", err)
	}
	if err := p2.Wait(); !errors.Is(err, ErrFsyncFailed) {
		t.Fatalf("second waiter: %v", err)
	}
}

func TestWriteFailuresPoisonAndRecover(t *testing.T) {
	for _, m := range testModes {
		t.Run(m.name, func(t *testing.T) { writeFailuresPoisonAndRecover(t, m.mode) })
	}
}

func writeFailuresPoisonAndRecover(t *testing.T, mode PreallocMode) {
	for _, short := range []bool{false, true} {
		fs := newFaultFS(t, 14)
		l := mustOpenMode(t, fs, 1<<20, mode)
		appendN(t, l, 10, 2)
		fs.Inject(faultfs.Fault{Op: faultfs.OpWrite, Name: "*.wal", Short: short})
		if err := l.Append(mkRecs(11, 3)); !errors.Is(err, ErrPoisoned) {
			t.Fatalf("short=%v: %v", short, err)
		}
		if err := l.Append(mkRecs(11, 1)); !errors.Is(err, ErrPoisoned) {
			t.Fatalf("short=%v: later append: %v", short, err)
		}
		// A short write leaves half a batch in the page cache. Whether it
		// survives or not, recovery keeps exactly the acknowledged records.
		fs.CrashTorn()
		r, err := Verify(fs, testDir)
		if err != nil || r.Status == Corrupt {
			t.Fatalf("short=%v: Verify after torn crash: %v %v", short, r, err)
		}
		l = mustOpenMode(t, fs, 1<<20, mode)
		if last := l.LastIndex(); last < 10 || last > 13 {
			t.Fatalf("short=%v: LastIndex %d outside [10, 13]", short, last)
		}
		checkContents(t, l, 1, l.LastIndex())
		_ = l.Close()
	}
}

// TestRolloverFailuresPoison: a failing step of segment creation (inline,
// from a spare, or preparing the spare) poisons the log once the rollover
// cannot proceed, and every acknowledged record survives a crash.
func TestRolloverFailuresPoison(t *testing.T) {
	spareOnly := func(m PreallocMode) bool { return m == PreallocBackground }
	always := func(PreallocMode) bool { return true }
	faults := []struct {
		fault   faultfs.Fault
		poisons func(PreallocMode) bool // false: the log must carry on
	}{
		{faultfs.Fault{Op: faultfs.OpCreate, Name: "*"}, always},
		{faultfs.Fault{Op: faultfs.OpRename, Name: "*"}, always},
		{faultfs.Fault{Op: faultfs.OpSyncDir, Name: "*"}, always},
		{faultfs.Fault{Op: faultfs.OpSync, Name: "*.tmp"}, always},               // new segment or spare
		{faultfs.Fault{Op: faultfs.OpWrite, Name: "*.tmp"}, always},              // header or zero fill
		{faultfs.Fault{Op: faultfs.OpDatasync, Name: "*.wal", After: 3}, always}, // sealing the old tail
		{faultfs.Fault{Op: faultfs.OpDatasync, Name: spareName}, spareOnly},      // header written into the spare
		{faultfs.Fault{Op: faultfs.OpWrite, Name: spareName, Short: true}, spareOnly},
		// Preparing the spare fails without an fsync failure: the rollover
		// fills the segment inline and the log carries on.
		{faultfs.Fault{Op: faultfs.OpCreate, Name: spareName + tmpSuffix}, func(PreallocMode) bool { return false }},
	}
	for _, m := range testModes {
		for i, c := range faults {
			t.Run(fmt.Sprintf("%s/fault%d", m.name, i), func(t *testing.T) {
				fs := newFaultFS(t, 15)
				l := mustOpenMode(t, fs, 600, m.mode)
				ft := c.fault
				ft.Sticky = true
				fs.Inject(ft)
				var err error
				for i := 0; i < 40 && err == nil; i++ {
					err = l.Append(mkRecs(l.LastIndex()+1, 1))
				}
				if poisons := c.poisons(m.mode); poisons && !errors.Is(err, ErrPoisoned) {
					t.Fatalf("%+v: rollover failure not poisoning: %v", ft, err)
				} else if !poisons && err != nil {
					t.Fatalf("%+v: the log failed: %v", ft, err)
				}
				acked := l.LastIndex()
				fs.ClearFaults()
				fs.CrashTorn()
				l = mustOpenMode(t, fs, 600, m.mode)
				if l.LastIndex() < acked {
					t.Fatalf("%+v: lost acknowledged records: %d < %d", ft, l.LastIndex(), acked)
				}
				checkContents(t, l, 1, l.LastIndex())
				_ = l.Close()
			})
		}
	}
}

// TestLostUnsyncedWrites: records written but never fsynced vanish (or are
// cut as a torn tail) on a crash; fsynced ones always survive.
func TestLostUnsyncedWrites(t *testing.T) {
	for _, m := range testModes {
		t.Run(m.name, func(t *testing.T) { lostUnsyncedWrites(t, m.mode) })
	}
}

func lostUnsyncedWrites(t *testing.T, mode PreallocMode) {
	for seed := int64(0); seed < 50; seed++ {
		fs := newFaultFS(t, seed)
		l := mustOpenMode(t, fs, 900, mode)
		appendN(t, l, 20, 4)
		if _, err := l.AppendAsync(mkRecs(21, 3)); err != nil {
			t.Fatal(err)
		}
		if seed%2 == 0 {
			fs.Crash()
		} else {
			fs.CrashTorn()
		}
		l = mustOpenMode(t, fs, 900, mode)
		if last := l.LastIndex(); last < 20 || last > 23 {
			t.Fatalf("seed %d: LastIndex %d", seed, last)
		}
		checkContents(t, l, 1, l.LastIndex())
		_ = l.Close()
		mustVerify(t, fs, Intact)
	}
}

func TestOpenErrors(t *testing.T) {
	fs := newFaultFS(t, 16)
	if _, err := Open(Options{Dir: testDir, FS: fs, SegmentBytes: 10}); err == nil {
		t.Fatal("tiny SegmentBytes accepted")
	}
	fs.Inject(faultfs.Fault{Op: faultfs.OpSyncDir})
	if _, err := Open(Options{Dir: testDir, FS: fs}); !errors.Is(err, ErrFsyncFailed) {
		t.Fatalf("failed directory fsync on open: %v", err)
	}
	if _, err := Verify(fs, filepath.Join(testDir, "nope")); err == nil {
		t.Fatal("Verify of a missing directory succeeded")
	}
}
