package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestOSRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	if err := OS.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "b")
	f, err := OS.Create(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("J"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("e"), 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Datasync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := OS.ReadFile(a); err != nil || string(got) != "Jell" {
		t.Fatalf("ReadFile: %q %v", got, err)
	}
	if err := OS.Rename(a, filepath.Join(dir, "c")); err != nil {
		t.Fatal(err)
	}
	g, err := OS.OpenFile(filepath.Join(dir, "a"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	_ = g.Close()
	names, err := OS.ReadDir(dir)
	if err != nil || !reflect.DeepEqual(names, []string{"a", "c"}) {
		t.Fatalf("ReadDir: %v %v", names, err)
	}
	if err := OS.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := OS.Truncate(filepath.Join(dir, "c"), 1); err != nil {
		t.Fatal(err)
	}
	if st, err := OS.Stat(filepath.Join(dir, "c")); err != nil || st.Size() != 1 {
		t.Fatalf("Stat: %v %v", st, err)
	}
	if err := OS.Remove(filepath.Join(dir, "c")); err != nil {
		t.Fatal(err)
	}
	if _, err := OS.ReadFile(filepath.Join(dir, "c")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("removed file: %v", err)
	}
}
