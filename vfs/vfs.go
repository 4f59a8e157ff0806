package vfs

import (
	"io"
	"io/fs"
)

// File is an open file. Offsets are in bytes from the start of the file.
type File interface {
	io.Writer   // writes at the file's current offset (the end when opened with os.O_APPEND)
	io.WriterAt // writes at an explicit offset; never combined with os.O_APPEND
	io.ReaderAt
	// Sync makes everything written so far durable (fsync). See the package
	// contract: a failure is fatal for the caller.
	Sync() error
	// Datasync makes everything written so far durable like Sync, including
	// a changed file size, but may skip metadata that reading the data does
	// not need (timestamps): fdatasync. On a file whose blocks are already
	// allocated and whose size does not change it avoids a journal commit.
	// A failure is fatal for the caller, as for Sync.
	Datasync() error
	// Truncate changes the file size; durable only after Sync.
	Truncate(size int64) error
	Close() error
}

// FS is what wal and fence need from a file system. Names are paths as used by
// package path/filepath.
type FS interface {
	// OpenFile opens name with os.O_* flags (os.O_RDONLY, os.O_RDWR,
	// os.O_CREATE, os.O_EXCL, os.O_TRUNC, os.O_APPEND).
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Create creates or truncates name for reading and writing.
	Create(name string) (File, error)
	ReadFile(name string) ([]byte, error)
	Rename(oldName, newName string) error
	Remove(name string) error
	MkdirAll(dir string, perm fs.FileMode) error
	// ReadDir lists the names inside dir, sorted.
	ReadDir(dir string) ([]string, error)
	Stat(name string) (fs.FileInfo, error)
	Truncate(name string, size int64) error
	// SyncDir makes the directory's entries durable (fsync of the directory).
	SyncDir(dir string) error
}

// OS is the FS of the operating system.
var OS FS = osFS{}

// Compile-time checks that the OS types satisfy the seam.
var (
	_ FS   = osFS{}
	_ File = osFile{}
)
