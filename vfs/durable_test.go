package vfs_test

import (
	"errors"
	"testing"

	"github.com/chr2sql/chr2sql/vfs"
	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

func TestMkdirAllDurableSurvivesCrash(t *testing.T) {
	fs := faultfs.New(1)
	if err := vfs.MkdirAllDurable(fs, "/a/b/c", 0o755); err != nil {
		t.Fatal(err)
	}
	fs.Crash()
	if st, err := fs.Stat("/a/b/c"); err != nil || !st.IsDir() {
		t.Fatalf("nested directory lost on crash: %v", err)
	}
	// Plain MkdirAll is not durable in the model: the helper is what matters.
	if err := fs.MkdirAll("/x/y", 0o755); err != nil {
		t.Fatal(err)
	}
	fs.Crash()
	if _, err := fs.Stat("/x"); err == nil {
		t.Fatal("faultfs kept an unsynced directory")
	}
	// Existing directory: still fine, and a failed directory fsync is reported.
	fs.Inject(faultfs.Fault{Op: faultfs.OpSyncDir})
	if err := vfs.MkdirAllDurable(fs, "/a/b/c", 0o755); !errors.Is(err, vfs.ErrSyncDir) {
		t.Fatalf("failed dir fsync: %v", err)
	}
}
