package faultfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"testing"
)

func mustWriteFile(t *testing.T, f *FS, name string, data []byte, sync bool) {
	t.Helper()
	h, err := f.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Write(data); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := h.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}

func setup(t *testing.T) *FS {
	t.Helper()
	f := New(1)
	if err := f.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUnsyncedDataLostOnCrash(t *testing.T) {
	f := setup(t)
	mustWriteFile(t, f, "/d/a", []byte("hello"), true)
	if err := f.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	h, err := f.OpenFile("/d/a", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.WriteAt([]byte(" world"), 5); err != nil {
		t.Fatal(err)
	}
	got, _ := f.ReadFile("/d/a")
	if string(got) != "hello world" {
		t.Fatalf("visible contents %q", got)
	}
	f.Crash()
	got, err = f.ReadFile("/d/a")
	if err != nil || string(got) != "hello" {
		t.Fatalf("after crash got %q, %v; want the synced %q", got, err, "hello")
	}
	if _, err := h.WriteAt([]byte("x"), 0); !errors.Is(err, ErrCrashed) {
		t.Fatalf("stale handle write: %v, want ErrCrashed", err)
	}
}

func TestNameNeedsSyncDir(t *testing.T) {
	f := setup(t)
	mustWriteFile(t, f, "/d/a", []byte("data"), true)
	f.Crash()
	if _, err := f.ReadFile("/d/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file without SyncDir survived the crash: %v", err)
	}
	mustWriteFile(t, f, "/d/a", []byte("data"), true)
	if err := f.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename("/d/a", "/d/b"); err != nil {
		t.Fatal(err)
	}
	f.Crash()
	if _, err := f.ReadFile("/d/a"); err != nil {
		t.Fatalf("rename without SyncDir should be lost: %v", err)
	}
	if err := f.Rename("/d/a", "/d/b"); err != nil {
		t.Fatal(err)
	}
	if err := f.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	f.Crash()
	if _, err := f.ReadFile("/d/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old name survived a synced rename: %v", err)
	}
	if got, err := f.ReadFile("/d/b"); err != nil || string(got) != "data" {
		t.Fatalf("new name: %q %v", got, err)
	}
}

func TestDirectoryItselfNeedsSyncDir(t *testing.T) {
	f := New(1)
	if err := f.MkdirAll("/x/y", 0o755); err != nil {
		t.Fatal(err)
	}
	mustWriteFile(t, f, "/x/y/a", []byte("data"), true)
	if err := f.SyncDir("/x/y"); err != nil {
		t.Fatal(err)
	}
	f.Crash()
	if _, err := f.Stat("/x/y/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file in a never-synced directory survived: %v", err)
	}
}

func TestRemoveNeedsSyncDir(t *testing.T) {
	f := setup(t)
	mustWriteFile(t, f, "/d/a", []byte("data"), true)
	_ = f.SyncDir("/d")
	if err := f.Remove("/d/a"); err != nil {
		t.Fatal(err)
	}
	f.Crash()
	if _, err := f.Stat("/d/a"); err != nil {
		t.Fatalf("unsynced remove should be undone: %v", err)
	}
	_ = f.Remove("/d/a")
	_ = f.SyncDir("/d")
	f.Crash()
	if _, err := f.Stat("/d/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("synced remove undone: %v", err)
	}
}

func TestTornCrashKeepsPrefixDeterministically(t *testing.T) {
	run := func(seed int64) [][]byte {
		var outs [][]byte
		f := New(seed)
		_ = f.MkdirAll("/d", 0o755)
		_ = f.SyncDir("/")
		mustWriteFile(t, f, "/d/a", []byte("base"), true)
		_ = f.SyncDir("/d")
		for i := 0; i < 20; i++ {
			h, _ := f.OpenFile("/d/a", os.O_RDWR, 0)
			size := int64(len(mustRead(t, f, "/d/a")))
			_, _ = h.WriteAt(bytes.Repeat([]byte{'a' + byte(i)}, 10), size)
			_, _ = h.WriteAt(bytes.Repeat([]byte{'A' + byte(i)}, 10), size+10)
			f.CrashTorn()
			got := mustRead(t, f, "/d/a")
			if !bytes.HasPrefix(got, []byte("base")) {
				t.Fatalf("synced prefix lost: %q", got)
			}
			if len(got) > int(size)+20 {
				t.Fatalf("grew beyond the writes: %q", got)
			}
			outs = append(outs, got)
		}
		return outs
	}
	a, b := run(7), run(7)
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("same seed gave different crashes at %d: %q vs %q", i, a[i], b[i])
		}
	}
}

func mustRead(t *testing.T, f *FS, name string) []byte {
	t.Helper()
	b, err := f.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInjectedFaults(t *testing.T) {
	f := setup(t)
	f.Inject(Fault{Op: OpWrite, Name: "a", Short: true})
	h, err := f.Create("/d/a")
	if err != nil {
		t.Fatal(err)
	}
	n, err := h.Write([]byte("12345678"))
	if n != 4 || !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("short write: n=%d err=%v", n, err)
	}
	f.Inject(Fault{Op: OpSync, Name: "a", After: 1})
	if err := h.Sync(); err != nil {
		t.Fatalf("first sync should pass: %v", err)
	}
	if _, err := h.Write([]byte("more")); err != nil {
		t.Fatal(err)
	}
	if err := h.Sync(); !errors.Is(err, ErrInjected) {
		t.Fatalf("second sync: %v, want ErrInjected", err)
	}
	_ = f.SyncDir("/d")
	f.Crash()
	if got := mustRead(t, f, "/d/a"); string(got) != "1234" {
		t.Fatalf("failed fsync must not make data durable: %q", got)
	}
	f.Inject(Fault{Op: OpRename, Sticky: true})
	for i := 0; i < 2; i++ {
		if err := f.Rename("/d/a", "/d/b"); !errors.Is(err, ErrInjected) {
			t.Fatalf("sticky rename fault %d: %v", i, err)
		}
	}
}

func TestFlipBitSurvivesCrash(t *testing.T) {
	f := setup(t)
	mustWriteFile(t, f, "/d/a", []byte{0, 0, 0}, true)
	_ = f.SyncDir("/d")
	if err := f.FlipBit("/d/a", 1, 3); err != nil {
		t.Fatal(err)
	}
	f.Crash()
	if got := mustRead(t, f, "/d/a"); !bytes.Equal(got, []byte{0, 8, 0}) {
		t.Fatalf("got %v", got)
	}
	if err := f.FlipBit("/d/a", 3, 0); err == nil {
		t.Fatal("flip beyond EOF accepted")
	}
}

func TestCrashAfterStopsMutations(t *testing.T) {
	f := setup(t)
	f.CrashAfter(2)
	h, err := f.Create("/d/a") // 1
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Write([]byte("x")); err != nil { // 2
		t.Fatal(err)
	}
	if err := h.Sync(); !errors.Is(err, ErrCrashed) {
		t.Fatalf("third mutation: %v, want ErrCrashed", err)
	}
	if !f.Dead() {
		t.Fatal("not dead")
	}
	if _, err := f.ReadDir("/d"); !errors.Is(err, ErrCrashed) {
		t.Fatalf("reads after death: %v", err)
	}
	f.Crash()
	if f.Dead() {
		t.Fatal("still dead after Crash")
	}
	if names, err := f.ReadDir("/d"); err != nil || len(names) != 0 {
		t.Fatalf("after crash: %v %v", names, err)
	}
}

func TestOpenFlags(t *testing.T) {
	f := setup(t)
	if _, err := f.OpenFile("/d/none", os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := f.OpenFile("/nodir/a", os.O_RDWR|os.O_CREATE, 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing parent: %v", err)
	}
	mustWriteFile(t, f, "/d/a", []byte("abc"), false)
	if _, err := f.OpenFile("/d/a", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("excl: %v", err)
	}
	r, _ := f.OpenFile("/d/a", os.O_RDONLY, 0)
	if _, err := r.Write([]byte("x")); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("write on read-only handle: %v", err)
	}
	a, _ := f.OpenFile("/d/a", os.O_WRONLY|os.O_APPEND, 0)
	_, _ = a.Write([]byte("de"))
	if got := mustRead(t, f, "/d/a"); string(got) != "abcde" {
		t.Fatalf("append: %q", got)
	}
	buf := make([]byte, 10)
	n, err := r.ReadAt(buf, 2)
	if n != 3 || err != io.EOF || string(buf[:n]) != "cde" {
		t.Fatalf("ReadAt: %d %v %q", n, err, buf[:n])
	}
	names, _ := f.ReadDir("/d")
	if len(names) != 1 || names[0] != "a" {
		t.Fatalf("ReadDir: %v", names)
	}
}
