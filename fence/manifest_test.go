package fence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path/filepath"
	"testing"

	"github.com/chr2sql/chr2sql/vfs"
	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

const testDir = "/data"

func newFS(t *testing.T, seed int64) *faultfs.FS {
	t.Helper()
	return faultfs.New(seed) // "/" exists and is durable; Save creates /data
}

func mustOpen(t *testing.T, fs vfs.FS) *Manifest {
	t.Helper()
	m, err := Open(fs, testDir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return m
}

func TestEncodingMatchesDoc(t *testing.T) {
	s := State{NodeID: 1, ClusterID: 0xABCD, Term: 5, Vote: 2, Commit: 99}
	b := encode(s)
	if len(b) != EncodedBytes || string(b[:8]) != "chr2fnc\x00" || binary.LittleEndian.Uint32(b[8:]) != 1 ||
		binary.LittleEndian.Uint64(b[16:]) != 1 || binary.LittleEndian.Uint64(b[24:]) != 0xABCD ||
		binary.LittleEndian.Uint64(b[32:]) != 5 || binary.LittleEndian.Uint64(b[40:]) != 2 ||
		binary.LittleEndian.Uint64(b[48:]) != 99 ||
		binary.LittleEndian.Uint32(b[60:]) != crc32.Checksum(b[:60], crc32.MakeTable(crc32.Castagnoli)) {
		t.Fatalf("layout differs from doc.go: %x", b)
	}
	got, err := decode(b)
	if err != nil || got != s {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for i := range b {
		for bit := 0; bit < 8; bit++ {
			c := bytes.Clone(b)
			c[i] ^= 1 << bit
			if _, err := decode(c); err == nil {
				t.Fatalf("bit flip at %d/%d accepted", i, bit)
			}
		}
	}
	if _, err := decode(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

func TestOpenMissingSaveReopen(t *testing.T) {
	fs := newFS(t, 1)
	m := mustOpen(t, fs)
	if m.Exists() || m.State() != (State{}) {
		t.Fatal("missing manifest should be an empty, non-existing state")
	}
	s := State{NodeID: 3, ClusterID: 7, Term: 1, Vote: 3}
	if err := m.Save(s); err != nil {
		t.Fatal(err)
	}
	if !m.Exists() || m.State() != s {
		t.Fatal("state not updated")
	}
	fs.Crash() // Save returned: the state must be durable, directory included
	m = mustOpen(t, fs)
	if !m.Exists() || m.State() != s {
		t.Fatalf("after crash: %+v exists=%v", m.State(), m.Exists())
	}
}

func TestOpenCorrupt(t *testing.T) {
	for name, damage := range map[string]func(*faultfs.FS) error{
		"bit flip": func(fs *faultfs.FS) error { return fs.FlipBit(filepath.Join(testDir, FileName), 35, 2) },
		"truncated": func(fs *faultfs.FS) error {
			return fs.Truncate(filepath.Join(testDir, FileName), 10)
		},
		"empty": func(fs *faultfs.FS) error { return fs.Truncate(filepath.Join(testDir, FileName), 0) },
	} {
		fs := newFS(t, 2)
		m := mustOpen(t, fs)
		if err := m.Save(State{NodeID: 1, Term: 4}); err != nil {
			t.Fatal(err)
		}
		if err := damage(fs); err != nil {
			t.Fatal(err)
		}
		_, err := Open(fs, testDir)
		var ce *CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.File != filepath.Join(testDir, FileName) {
			t.Fatalf("%s: Open: %v", name, err)
		}
	}
}

func TestTransitions(t *testing.T) {
	base := State{NodeID: 1, ClusterID: 9, Term: 5, Vote: 2, Commit: 10}
	cases := []struct {
		next State
		ok   bool
	}{
		{base, true},
		{State{NodeID: 1, ClusterID: 9, Term: 5, Vote: 2, Commit: 11}, true},
		{State{NodeID: 1, ClusterID: 9, Term: 6, Vote: 0, Commit: 10}, true},
		{State{NodeID: 1, ClusterID: 9, Term: 6, Vote: 3, Commit: 10}, true},
		{State{NodeID: 1, ClusterID: 9, Term: 4, Vote: 2, Commit: 10}, false},
		{State{NodeID: 1, ClusterID: 9, Term: 5, Vote: 3, Commit: 10}, false},
		{State{NodeID: 1, ClusterID: 9, Term: 5, Vote: 0, Commit: 10}, false},
		{State{NodeID: 2, ClusterID: 9, Term: 5, Vote: 2, Commit: 10}, false},
		{State{NodeID: 1, ClusterID: 8, Term: 5, Vote: 2, Commit: 10}, false},
		{State{NodeID: 0, ClusterID: 9, Term: 5, Vote: 2, Commit: 10}, false},
		{State{NodeID: 1, ClusterID: 9, Term: 5, Vote: 2, Commit: 9}, true}, // commit is a hint
	}
	for i, c := range cases {
		err := CheckTransition(base, c.next)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrRegression)) {
			t.Errorf("case %d %+v: %v", i, c.next, err)
		}
	}
	// A vote may be cast once in a term that had none.
	if err := CheckTransition(State{Term: 5}, State{Term: 5, Vote: 4}); err != nil {
		t.Error(err)
	}
	if err := CheckTransition(State{}, State{NodeID: 1, ClusterID: 2}); err != nil {
		t.Error("ids may be set once:", err)
	}
	if NeedsSave(base, State{NodeID: 1, ClusterID: 9, Term: 5, Vote: 2, Commit: 500}) {
		t.Error("commit-only change must not need a save")
	}
	for _, next := range []State{
		{NodeID: 1, ClusterID: 9, Term: 6, Vote: 2, Commit: 10},
		{NodeID: 1, ClusterID: 9, Term: 5, Vote: 0, Commit: 10},
		{NodeID: 2, ClusterID: 9, Term: 5, Vote: 2, Commit: 10},
		{NodeID: 1, ClusterID: 1, Term: 5, Vote: 2, Commit: 10},
	} {
		if !NeedsSave(base, next) {
			t.Errorf("NeedsSave(%+v) false", next)
		}
	}
}

// TestZombie: a node at term 5 refuses a message from term 3, refuses to go
// back to term 3, and still does so after a restart.
func TestZombie(t *testing.T) {
	fs := newFS(t, 3)
	m := mustOpen(t, fs)
	if err := m.Save(State{NodeID: 1, ClusterID: 1, Term: 5, Vote: 1}); err != nil {
		t.Fatal(err)
	}
	zombie := State{NodeID: 1, ClusterID: 1, Term: 3, Vote: 2}
	for restart := 0; restart < 2; restart++ {
		s := m.State()
		if err := CheckTerm(s, 3); !errors.Is(err, ErrStaleTerm) {
			t.Fatalf("restart %d: message from term 3 accepted: %v", restart, err)
		}
		if err := CheckTerm(s, 5); err != nil {
			t.Fatalf("current term refused: %v", err)
		}
		if err := CheckTerm(s, 6); err != nil {
			t.Fatalf("higher term refused: %v", err)
		}
		if err := m.Save(zombie); !errors.Is(err, ErrRegression) {
			t.Fatalf("restart %d: zombie state saved: %v", restart, err)
		}
		if m.State().Term != 5 {
			t.Fatal("in-memory state moved back")
		}
		fs.Crash()
		m = mustOpen(t, fs)
	}
}

// TestCrashAtEveryStepOfSave kills the process before each mutating step of
// Save (with and without torn writes) and checks the manifest is then exactly
// the old or the new state, never corrupt or absent; and the new one once
// Save returned.
func TestCrashAtEveryStepOfSave(t *testing.T) {
	old := State{NodeID: 1, ClusterID: 2, Term: 5, Vote: 1, Commit: 7}
	next := State{NodeID: 1, ClusterID: 2, Term: 6, Vote: 3, Commit: 9}
	for _, first := range []bool{true, false} {
		for step := 0; ; step++ {
			done := false
			for _, torn := range []bool{false, true} {
				fs := newFS(t, int64(step))
				m := mustOpen(t, fs)
				if !first {
					if err := m.Save(old); err != nil {
						t.Fatal(err)
					}
				}
				fs.CrashAfter(step)
				err := m.Save(next)
				completed := !fs.Dead()
				if completed != (err == nil) {
					t.Fatalf("first=%v step %d: completed=%v err=%v", first, step, completed, err)
				}
				if !completed {
					if !errors.Is(err, ErrPoisoned) || !errors.Is(m.Save(next), ErrPoisoned) {
						t.Fatalf("first=%v step %d: failed Save did not poison: %v", first, step, err)
					}
				}
				done = completed
				if torn {
					fs.CrashTorn()
				} else {
					fs.Crash()
				}
				m2, err := Open(fs, testDir)
				if err != nil {
					t.Fatalf("first=%v step %d torn=%v: Open after crash: %v", first, step, torn, err)
				}
				got := m2.State()
				switch {
				case got == next && m2.Exists():
				case !completed && first && !m2.Exists() && got == State{}:
				case !completed && !first && got == old && m2.Exists():
				default:
					t.Fatalf("first=%v step %d torn=%v: state %+v exists=%v (completed=%v)", first, step, torn, got, m2.Exists(), completed)
				}
				// A restarted node can always save again.
				if err := m2.Save(next); err != nil {
					t.Fatalf("save after recovery: %v", err)
				}
			}
			if done {
				t.Logf("first=%v: %d crash points checked", first, step+1)
				break
			}
		}
	}
}

func TestFaultsPoison(t *testing.T) {
	for _, f := range []faultfs.Fault{
		{Op: faultfs.OpSync, Name: "manifest.tmp"},
		{Op: faultfs.OpSyncDir},
		{Op: faultfs.OpWrite, Short: true},
		{Op: faultfs.OpWrite},
		{Op: faultfs.OpRename},
		{Op: faultfs.OpCreate},
	} {
		fs := newFS(t, 4)
		m := mustOpen(t, fs)
		if err := m.Save(State{Term: 1}); err != nil {
			t.Fatal(err)
		}
		fs.Inject(f)
		err := m.Save(State{Term: 2})
		if !errors.Is(err, ErrPoisoned) {
			t.Fatalf("fault %+v: %v", f, err)
		}
		if (f.Op == faultfs.OpSync || f.Op == faultfs.OpSyncDir) != errors.Is(err, ErrFsyncFailed) {
			t.Fatalf("fault %+v: fsync marking wrong: %v", f, err)
		}
		if err := m.Save(State{Term: 3}); !errors.Is(err, ErrPoisoned) {
			t.Fatalf("fault %+v: later save: %v", f, err)
		}
		if m.State().Term != 1 {
			t.Fatalf("fault %+v: in-memory state moved to an undurable value", f)
		}
	}
}

func TestLeftoverTmpIgnored(t *testing.T) {
	fs := newFS(t, 5)
	m := mustOpen(t, fs)
	if err := m.Save(State{Term: 2}); err != nil {
		t.Fatal(err)
	}
	h, _ := fs.Create(filepath.Join(testDir, tmpFileName))
	_, _ = h.Write([]byte("half"))
	_ = h.Close()
	m = mustOpen(t, fs)
	if m.State().Term != 2 {
		t.Fatal("tmp file changed the state")
	}
	if err := m.Save(State{Term: 3}); err != nil {
		t.Fatal(err)
	}
	if got, _ := Open(fs, testDir); got.State().Term != 3 {
		t.Fatal("save over a leftover tmp failed")
	}
}

func TestFirstSaveCreatesDirectoriesDurably(t *testing.T) {
	fs := faultfs.New(6)
	m, err := Open(fs, "/a/b/c")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(State{NodeID: 1, Term: 1}); err != nil {
		t.Fatal(err)
	}
	fs.Crash()
	if m, err = Open(fs, "/a/b/c"); err != nil || !m.Exists() || m.State().Term != 1 {
		t.Fatalf("after crash: %v", err)
	}
}

func TestRealDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	m, err := Open(nil, dir)
	if err != nil || m.Exists() {
		t.Fatal(err)
	}
	for term := uint64(1); term <= 5; term++ {
		if err := m.Save(State{NodeID: 1, Term: term, Vote: 1}); err != nil {
			t.Fatal(err)
		}
	}
	m, err = Open(vfs.OS, dir)
	if err != nil || m.State().Term != 5 {
		t.Fatal(err, m.State())
	}
}

// FuzzDecodeManifest: the decoder never panics and accepts only exact
// encodings.
func FuzzDecodeManifest(f *testing.F) {
	f.Add(encode(State{NodeID: 1, ClusterID: 2, Term: 3, Vote: 1, Commit: 10}))
	f.Add(encode(State{}))
	f.Add([]byte("chr2fnc\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encode(s), b) {
			t.Fatalf("accepted bytes differ from the encoding of %+v", s)
		}
	})
}
