package wal

import (
	"errors"
	"sort"
	"sync"
	"testing"

	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

func TestAppendReadReopenAcrossSegments(t *testing.T) {
	fs := newFaultFS(t, 1)
	l := mustOpen(t, fs, 1024)
	if !l.Created() || l.FirstIndex() != 1 || l.LastIndex() != 0 || l.LastTerm() != 0 {
		t.Fatalf("new log: created=%v first=%d last=%d", l.Created(), l.FirstIndex(), l.LastIndex())
	}
	appendN(t, l, 200, 7)
	checkContents(t, l, 1, 200)
	for _, i := range []uint64{0, 1, 57, 200} {
		h, err := l.ChainHash(i)
		if err != nil || h != expectedHash([32]byte{}, 1, i) {
			t.Fatalf("ChainHash(%d): %v", i, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	paths := segPaths(t, fs)
	if len(paths) < 10 || !sort.StringsAreSorted(paths) {
		t.Fatalf("expected many sorted segments, got %v", paths)
	}
	r := mustVerify(t, fs, Intact)
	if r.FirstIndex != 1 || r.LastIndex != 200 || r.Records != 200 || r.Segments != len(paths) || r.ExitCode() != 0 {
		t.Fatalf("report %+v", r)
	}
	l = mustOpen(t, fs, 1024)
	defer l.Close()
	if l.Created() {
		t.Fatal("reopen reported a new log")
	}
	checkContents(t, l, 1, 200)
	for _, lo := range []uint64{1, 2, 100, 199, 200, 201} {
		n := 0
		if err := l.ReadFrom(lo, func(r Record) error { n++; return nil }); err != nil || n != int(201-lo) {
			t.Fatalf("ReadFrom(%d): n=%d err=%v", lo, n, err)
		}
	}
	if err := l.ReadFrom(202, func(Record) error { return nil }); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("ReadFrom beyond: %v", err)
	}
	stop := errors.New("stop")
	if err := l.ReadFrom(1, func(Record) error { return stop }); err != stop {
		t.Fatalf("callback error not returned: %v", err)
	}
	for i := uint64(0); i <= 200; i++ {
		term, err := l.Term(i)
		want := testTerm(i)
		if i == 0 {
			want = 0
		}
		if err != nil || term != want {
			t.Fatalf("Term(%d) = %d, %v", i, term, err)
		}
	}
}

func TestRolloverBoundsSegmentSize(t *testing.T) {
	fs := newFaultFS(t, 2)
	const segBytes = 2048
	l := mustOpen(t, fs, segBytes)
	appendN(t, l, 300, 13)
	_ = l.Close()
	res, err := scanDir(fs, testDir, nil)
	if err != nil || res.corrupt != nil {
		t.Fatal(err, res.corrupt)
	}
	for i, s := range res.segs {
		if len(s.offs) == 0 && i != len(res.segs)-1 {
			t.Fatalf("empty sealed segment %s", s.path)
		}
		if s.size > segBytes && len(s.offs) > 1 {
			t.Fatalf("segment %s has %d bytes and %d records", s.path, s.size, len(s.offs))
		}
	}
}

func TestOversizedRecordGetsItsOwnSegment(t *testing.T) {
	fs := newFaultFS(t, 3)
	l := mustOpen(t, fs, 512)
	defer l.Close()
	big := make([]byte, 4000)
	if err := l.Append([]Record{{Index: 1, Term: 1, Data: []byte("a")}, {Index: 2, Term: 1, Data: big}, {Index: 3, Term: 1}}); err != nil {
		t.Fatal(err)
	}
	if n := len(segPaths(t, fs)); n != 3 {
		t.Fatalf("%d segments, want 3", n)
	}
	mustVerify(t, fs, Intact)
}

func TestAppendValidation(t *testing.T) {
	fs := newFaultFS(t, 4)
	l := mustOpen(t, fs, 4096)
	defer l.Close()
	appendN(t, l, 20, 5)
	cases := []struct {
		recs []Record
		want error
	}{
		{[]Record{{Index: 22, Term: 9}}, ErrNotContiguous},
		{[]Record{{Index: 20, Term: 9}}, ErrNotContiguous},
		{[]Record{{Index: 21, Term: 9}, {Index: 23, Term: 9}}, ErrNotContiguous},
		{[]Record{{Index: 21, Term: 1}}, ErrTermRegression},
		{[]Record{{Index: 21, Term: 9}, {Index: 22, Term: 8}}, ErrTermRegression},
		{[]Record{{Index: 21, Term: 9, Data: make([]byte, MaxDataBytes+1)}}, ErrRecordTooLarge},
	}
	for i, c := range cases {
		if err := l.Append(c.recs); !errors.Is(err, c.want) {
			t.Fatalf("case %d: %v, want %v", i, err, c.want)
		}
	}
	if err := l.Append(nil); err != nil {
		t.Fatalf("empty append: %v", err)
	}
	// Rejected input changed nothing and the log stays usable.
	appendN(t, l, 5, 5)
	checkContents(t, l, 1, 25)
}

func TestTruncateSuffix(t *testing.T) {
	for _, from := range []uint64{1, 2, 50, 99, 100, 101, 150} {
		fs := newFaultFS(t, 5)
		l := mustOpen(t, fs, 1024)
		appendN(t, l, 100, 9)
		if err := l.TruncateSuffix(from); err != nil {
			t.Fatalf("TruncateSuffix(%d): %v", from, err)
		}
		last := min(from-1, 100)
		checkContents(t, l, 1, last)
		// New records (higher term) chain onto the kept prefix.
		newRecs := []Record{{Index: last + 1, Term: 50, Data: []byte("new")}, {Index: last + 2, Term: 50}}
		if err := l.Append(newRecs); err != nil {
			t.Fatal(err)
		}
		h, _ := l.ChainHash(last + 2)
		want := expectedHash([32]byte{}, 1, last)
		want = chainHash(want, &newRecs[0])
		if chainHash(want, &newRecs[1]) != h {
			t.Fatalf("from %d: chain broken after truncation", from)
		}
		_ = l.Close()
		mustVerify(t, fs, Intact)
		l = mustOpen(t, fs, 1024)
		if l.LastIndex() != last+2 || l.LastTerm() != 50 {
			t.Fatalf("from %d: reopened last %d term %d", from, l.LastIndex(), l.LastTerm())
		}
		_ = l.Close()
	}
}

func TestCompactPrefix(t *testing.T) {
	fs := newFaultFS(t, 6)
	l := mustOpen(t, fs, 1024)
	appendN(t, l, 120, 4)
	before := len(segPaths(t, fs))
	if err := l.CompactPrefix(0); err != nil || len(segPaths(t, fs)) != before {
		t.Fatalf("CompactPrefix(0) removed something: %v", err)
	}
	if err := l.CompactPrefix(60); err != nil {
		t.Fatal(err)
	}
	first := l.FirstIndex()
	if first < 2 || first > 61 || len(segPaths(t, fs)) >= before {
		t.Fatalf("after compaction first index %d, segments %d (before %d)", first, len(segPaths(t, fs)), before)
	}
	checkContents(t, l, first, 120)
	if h, err := l.ChainHash(first - 1); err != nil || h != expectedHash([32]byte{}, 1, first-1) {
		t.Fatalf("base hash after compaction: %v", err)
	}
	if term, err := l.Term(first - 1); err != nil || term != testTerm(first-1) {
		t.Fatalf("base term: %d %v", term, err)
	}
	if _, err := l.Term(first - 2); !errors.Is(err, ErrCompacted) {
		t.Fatalf("Term below base: %v", err)
	}
	if err := l.ReadFrom(first-1, func(Record) error { return nil }); !errors.Is(err, ErrCompacted) {
		t.Fatalf("ReadFrom below first: %v", err)
	}
	if err := l.TruncateSuffix(first - 1); !errors.Is(err, ErrCompacted) {
		t.Fatalf("TruncateSuffix below first: %v", err)
	}
	// Compacting everything keeps the last segment.
	if err := l.CompactPrefix(1000); err != nil {
		t.Fatal(err)
	}
	if len(segPaths(t, fs)) != 1 || l.LastIndex() != 120 {
		t.Fatalf("full compaction: %d segments, last %d", len(segPaths(t, fs)), l.LastIndex())
	}
	appendN(t, l, 10, 3)
	first = l.FirstIndex()
	_ = l.Close()
	mustVerify(t, fs, Intact)
	l = mustOpen(t, fs, 1024)
	defer l.Close()
	checkContents(t, l, first, 130)
}

func TestResetContinuesChain(t *testing.T) {
	fs := newFaultFS(t, 7)
	l := mustOpen(t, fs, 1024)
	appendN(t, l, 50, 5)
	base := [32]byte{0xCA, 0xFE}
	if err := l.Reset(500, 33, base); err != nil {
		t.Fatal(err)
	}
	if l.FirstIndex() != 501 || l.LastIndex() != 500 || l.LastTerm() != 33 {
		t.Fatalf("after Reset: first %d last %d term %d", l.FirstIndex(), l.LastIndex(), l.LastTerm())
	}
	if h, err := l.ChainHash(500); err != nil || h != base {
		t.Fatalf("ChainHash(base): %v", err)
	}
	if err := l.Append(mkRecs(501, 1)); !errors.Is(err, ErrTermRegression) {
		t.Fatalf("term below snapshot term accepted: %v", err)
	}
	recs := []Record{{Index: 501, Term: 33, Data: []byte("a")}, {Index: 502, Term: 34, Data: []byte("b")}}
	if err := l.Append(recs); err != nil {
		t.Fatal(err)
	}
	want := chainHash(chainHash(base, &recs[0]), &recs[1])
	if h, _ := l.ChainHash(502); h != want {
		t.Fatal("chain does not continue from the reset hash")
	}
	if err := l.Reset(10, 1, base); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("Reset below base: %v", err)
	}
	_ = l.Close()
	if n := len(segPaths(t, fs)); n != 1 {
		t.Fatalf("%d segments after Reset", n)
	}
	mustVerify(t, fs, Intact)
	l = mustOpen(t, fs, 1024)
	defer l.Close()
	if h, _ := l.ChainHash(502); h != want || l.FirstIndex() != 501 || l.LastIndex() != 502 {
		t.Fatal("reset state not recovered")
	}
	// Reset to the current last index (snapshot of everything) also works.
	if err := l.Reset(502, 34, want); err != nil || l.LastIndex() != 502 || l.FirstIndex() != 503 {
		t.Fatalf("reset at last: %v", err)
	}
}

func TestUseAfterClose(t *testing.T) {
	fs := newFaultFS(t, 8)
	l := mustOpen(t, fs, 1024)
	appendN(t, l, 3, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"append":   l.Append(mkRecs(4, 1)),
		"close":    l.Close(),
		"truncate": l.TruncateSuffix(2),
		"compact":  l.CompactPrefix(2),
		"reset":    l.Reset(9, 9, [32]byte{}),
		"read":     l.ReadFrom(1, func(Record) error { return nil }),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

// TestConcurrentAppendersStress runs many appenders against the group commit
// and checks every acknowledged record is there exactly once, in order.
func TestConcurrentAppendersStress(t *testing.T) {
	fs := newFaultFS(t, 9)
	l := mustOpen(t, fs, 8192)
	var mu sync.Mutex
	next := uint64(1)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				mu.Lock()
				n := uint64(1 + i%3)
				p, err := l.AppendAsync(mkRecs(next, n))
				next += n
				mu.Unlock()
				if err == nil {
					err = p.Wait()
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// Readers run alongside and must only ever see verified, durable records.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			if err := l.ReadFrom(l.FirstIndex(), func(Record) error { return nil }); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	<-done
	checkContents(t, l, 1, next-1)
	_ = l.Close()
	mustVerify(t, fs, Intact)
}

// TestOpenCreatesDirectoriesDurably: a log opened in a directory whose
// ancestors do not exist yet survives a crash right after the first Append.
func TestOpenCreatesDirectoriesDurably(t *testing.T) {
	fs := faultfs.New(17)
	l, err := Open(Options{Dir: "/new/data/dir/wal", FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(mkRecs(1, 3)); err != nil {
		t.Fatal(err)
	}
	fs.Crash()
	l, err = Open(Options{Dir: "/new/data/dir/wal", FS: fs})
	if err != nil || l.Created() || l.LastIndex() != 3 {
		t.Fatalf("after crash: %v created=%v last=%d", err, l != nil && l.Created(), l.LastIndex())
	}
	_ = l.Close()
}

func TestResetRejectsMaxIndex(t *testing.T) {
	l := mustOpen(t, newFaultFS(t, 18), 1024)
	defer l.Close()
	if err := l.Reset(1<<64-1, 1, [32]byte{}); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("Reset(max): %v", err)
	}
}
