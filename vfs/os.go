package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	created := false
	if flag&os.O_CREATE != 0 {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			created = true
		}
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	if created {
		if err := syncDir(filepath.Dir(name)); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	return osFile{f}, nil
}

// osFile is an *os.File with Datasync.
type osFile struct{ *os.File }

// Datasync is fdatasync(2) where the platform has it (see datasync_*.go).
func (f osFile) Datasync() error { return datasync(f.File) }

func (o osFS) Create(name string) (File, error) {
	return o.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

func (osFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

func (osFS) Rename(oldName, newName string) error {
	if err := os.Rename(oldName, newName); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(newName)); err != nil {
		return err
	}
	if filepath.Dir(oldName) != filepath.Dir(newName) {
		return syncDir(filepath.Dir(oldName))
	}
	return nil
}

func (osFS) Remove(name string) error {
	if err := os.Remove(name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

func (osFS) MkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }

func (osFS) ReadDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	sort.Strings(names)
	return names, nil
}

func (osFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

func (osFS) Truncate(name string, size int64) error { return os.Truncate(name, size) }

func (osFS) SyncDir(dir string) error { return syncDir(dir) }

// syncDir fsyncs a directory so that entries created, renamed or removed in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}
