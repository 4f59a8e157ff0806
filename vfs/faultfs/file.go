package faultfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/chr2sql/chr2sql/vfs"
)

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i fileInfo) ModTime() time.Time { return time.Unix(0, 0) }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }

// file is an open handle. It becomes stale after a Crash.
type file struct {
	fs     *FS
	path   string
	n      *node
	gen    uint64
	flag   int
	off    int64
	closed bool
}

var _ vfs.File = (*file)(nil)

func (h *file) usable(op string) error {
	if h.closed {
		return pathErr(op, h.path, fs.ErrClosed)
	}
	if h.gen != h.fs.gen {
		return pathErr(op, h.path, ErrCrashed)
	}
	return nil
}

func (h *file) Write(p []byte) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	off := h.off
	if h.flag&os.O_APPEND != 0 {
		off = h.n.data.size
	}
	n, err := h.writeLocked(p, off)
	h.off = off + int64(n)
	return n, err
}

func (h *file) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.flag&os.O_APPEND != 0 {
		return 0, pathErr("writeat", h.path, errors.New("invalid use of WriteAt on file opened with O_APPEND"))
	}
	return h.writeLocked(p, off)
}

func (h *file) writeLocked(p []byte, off int64) (int, error) {
	if err := h.usable("write"); err != nil {
		return 0, err
	}
	if h.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return 0, pathErr("write", h.path, fs.ErrPermission)
	}
	if off < 0 {
		return 0, pathErr("write", h.path, fs.ErrInvalid)
	}
	ft, err := h.fs.check(OpWrite, h.path, true)
	if err != nil {
		return 0, pathErr("write", h.path, err)
	}
	var ferr error
	if ft != nil {
		if !ft.Short {
			return 0, pathErr("write", h.path, faultErr(ft))
		}
		p = p[:len(p)/2]
		ferr = pathErr("write", h.path, io.ErrShortWrite)
	}
	op := writeOp(p, off)
	h.n.data.apply(op)
	h.n.pending = append(h.n.pending, op)
	return len(p), ferr
}

func (h *file) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.usable("read"); err != nil {
		return 0, err
	}
	ft, err := h.fs.check(OpRead, h.path, false)
	if err != nil {
		return 0, pathErr("read", h.path, err)
	}
	if ft != nil {
		return 0, pathErr("read", h.path, faultErr(ft))
	}
	if off < 0 {
		return 0, pathErr("read", h.path, fs.ErrInvalid)
	}
	if off >= h.n.data.size {
		return 0, io.EOF
	}
	n := h.n.data.readAt(p, off)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Sync makes the file's contents durable: the pending operations are applied
// to the durable contents, in order.
func (h *file) Sync() error { return h.sync(OpSync, "sync") }

// Datasync has exactly Sync's durability model (data and size); only the
// Op used for fault injection and counting differs.
func (h *file) Datasync() error { return h.sync(OpDatasync, "fdatasync") }

func (h *file) sync(op Op, name string) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.usable(name); err != nil {
		return err
	}
	ft, err := h.fs.check(op, h.path, true)
	if err != nil {
		return pathErr(name, h.path, err)
	}
	if ft != nil {
		return pathErr(name, h.path, faultErr(ft))
	}
	for _, p := range h.n.pending {
		h.n.durable.apply(p)
	}
	h.n.pending = nil
	return nil
}

func (h *file) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.usable("truncate"); err != nil {
		return err
	}
	if h.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return pathErr("truncate", h.path, fs.ErrPermission)
	}
	return h.fs.truncateNode(h.n, h.path, size)
}

func (h *file) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return pathErr("close", h.path, fs.ErrClosed)
	}
	h.closed = true
	return nil
}
