package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// ErrSyncDir marks a failed directory fsync from MkdirAllDurable; callers
// treat it like any failed fsync (fatal).
var ErrSyncDir = errors.New("vfs: directory fsync failed")

// MkdirAllDurable creates dir and any missing ancestors and makes each new
// directory entry durable: after MkdirAll it fsyncs the parent of every
// directory it created, top-down. An existing dir costs one fsync of its
// parent, so a crash can never lose the directory the caller is about to use.
func MkdirAllDurable(fsys FS, dir string, perm fs.FileMode) error {
	dir = filepath.Clean(dir)
	var created []string // deepest first
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := fsys.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := fsys.MkdirAll(dir, perm); err != nil {
		return err
	}
	if len(created) == 0 {
		created = []string{dir}
	}
	for i := len(created) - 1; i >= 0; i-- {
		parent := filepath.Dir(created[i])
		if err := fsys.SyncDir(parent); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrSyncDir, parent, err)
		}
	}
	return nil
}
