package faultfs

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/chr2sql/chr2sql/vfs"
)

var (
	// ErrInjected is returned by an operation failed by Inject.
	ErrInjected = errors.New("faultfs: injected fault")
	// ErrCrashed is returned by every operation after the crash point set by
	// CrashAfter, and by handles opened before the last Crash.
	ErrCrashed = errors.New("faultfs: file system crashed")
)

// Op names an operation for fault injection and counting.
type Op uint8

// Operations that can be failed.
const (
	OpWrite Op = iota + 1 // Write and WriteAt
	OpSync
	OpSyncDir
	OpRename
	OpRemove
	OpCreate // OpenFile with os.O_CREATE, Create
	OpTruncate
	OpMkdir
	OpRead
	OpDatasync // File.Datasync; a Fault on OpSync does not match it
)

// Fault describes an injected failure.
type Fault struct {
	Op Op
	// Name is a path.Match pattern matched against the base name of the
	// path; empty matches every path.
	Name string
	// After lets this many matching calls succeed before the fault fires.
	After int
	// Short makes a failing write store the first half of its bytes before
	// returning io.ErrShortWrite.
	Short bool
	// Sticky keeps failing every later matching call once fired.
	Sticky bool
	// Err is returned instead of ErrInjected when set.
	Err error
}

type opKind uint8

const (
	kindWrite opKind = iota
	kindTruncate
)

// pendingOp is a change to a file not yet covered by a successful Sync.
type pendingOp struct {
	kind opKind
	off  int64
	data []byte // written bytes; nil for a write of n zero bytes
	n    int64  // length of the write
	size int64  // new size of a truncate
}

// writeOp records a write of p at off; all-zero writes keep no copy, so
// zero-filling a large file costs no memory.
func writeOp(p []byte, off int64) pendingOp {
	op := pendingOp{kind: kindWrite, off: off, n: int64(len(p))}
	if !allZero(p) {
		op.data = clone(p)
	}
	return op
}

// node is a file or directory. For a file, durable plus every pending op
// applied in order equals data.
type node struct {
	dir     bool
	data    content
	durable content
	pending []pendingOp
	modTime time.Time
}

// FS is the in-memory file system. The zero value is not usable; call New.
type FS struct {
	mu      sync.Mutex
	rng     *rand.Rand
	cur     map[string]*node
	dur     map[string]*node
	faults  []*Fault
	gen     uint64
	mutOps  int
	crashAt int // -1: no crash point
	dead    bool
	calls   map[Op]int
}

var _ vfs.FS = (*FS)(nil)

// New returns an empty file system whose random choices derive from seed.
// The root directories "/" and "." exist and are durable.
func New(seed int64) *FS {
	f := &FS{
		rng:     rand.New(rand.NewSource(seed)),
		cur:     map[string]*node{},
		dur:     map[string]*node{},
		crashAt: -1,
		calls:   map[Op]int{},
	}
	for _, root := range []string{"/", "."} {
		n := &node{dir: true}
		f.cur[root] = n
		f.dur[root] = n
	}
	return f
}

// Inject adds a fault rule.
func (f *FS) Inject(ft Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := ft
	f.faults = append(f.faults, &c)
}

// ClearFaults removes every fault rule.
func (f *FS) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// CrashAfter makes the FS die after n more mutating operations: the n+1-th
// and every later operation fail with ErrCrashed and change nothing.
func (f *FS) CrashAfter(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.crashAt = f.mutOps + n
}

// Dead reports whether the crash point set by CrashAfter was reached.
func (f *FS) Dead() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dead
}

// Calls is the number of times op was attempted on the file system since
// New, counted before injected faults fire (reads included: OpRead).
func (f *FS) Calls(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// MutatingOps is the number of mutating operations performed so far.
func (f *FS) MutatingOps() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mutOps
}

// Crash forgets every change not made durable and invalidates open handles.
func (f *FS) Crash() { f.crash(false) }

// CrashTorn is Crash, except that a random prefix of each file's pending
// operations survives, the last surviving one possibly torn.
func (f *FS) CrashTorn() { f.crash(true) }

func (f *FS) crash(torn bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	f.dead = false
	f.crashAt = -1
	// Deterministic iteration order: sorted paths.
	paths := make([]string, 0, len(f.dur))
	for p := range f.dur {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	seen := map[*node]bool{}
	for _, p := range paths {
		n := f.dur[p]
		if n.dir || seen[n] {
			continue
		}
		seen[n] = true
		n.data = f.surviving(n, torn)
		n.durable = n.data.clone()
		n.pending = nil
	}
	// Unreachable files lose their pending state too (they are gone).
	for _, n := range f.cur {
		if !seen[n] && !n.dir {
			n.pending = nil
		}
	}
	f.cur = map[string]*node{}
	for _, p := range paths {
		if f.reachableDurable(p) {
			f.cur[p] = f.dur[p]
		}
	}
	f.dur = map[string]*node{}
	for p, n := range f.cur {
		f.dur[p] = n
	}
}

// reachableDurable reports whether every ancestor of p is a durable directory.
func (f *FS) reachableDurable(p string) bool {
	for q := p; !isRoot(q); {
		q = filepath.Dir(q)
		n, ok := f.dur[q]
		if !ok || !n.dir {
			return false
		}
	}
	return true
}

func (f *FS) surviving(n *node, torn bool) content {
	out := n.durable.clone()
	if !torn || len(n.pending) == 0 {
		return out
	}
	keep := f.rng.Intn(len(n.pending) + 1)
	for i := 0; i < keep && i < len(n.pending); i++ {
		out.apply(n.pending[i])
	}
	if keep < len(n.pending) && n.pending[keep].kind == kindWrite {
		op := n.pending[keep]
		cut := int64(f.rng.Intn(int(op.n) + 1))
		part := pendingOp{kind: kindWrite, off: op.off, n: cut}
		if op.data != nil {
			part.data = clone(op.data[:cut])
		}
		switch f.rng.Intn(3) {
		case 1:
			part.data = nil
		case 2:
			part.data = make([]byte, cut)
			f.rng.Read(part.data)
		}
		out.apply(part)
	}
	return out
}

// apply performs one pending operation on c.
func (c *content) apply(op pendingOp) {
	switch op.kind {
	case kindTruncate:
		c.truncate(op.size)
	default:
		c.write(op.off, op.n, op.data)
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func isRoot(p string) bool { return p == "/" || p == "." }

// FlipBit flips bit (0..7) of the byte at off in name, in both the visible and
// the durable contents.
func (f *FS) FlipBit(name string, off int64, bit uint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.cur[filepath.Clean(name)]
	if !ok || n.dir {
		return pathErr("flipbit", name, fs.ErrNotExist)
	}
	if off < 0 || off >= n.data.size || bit > 7 {
		return pathErr("flipbit", name, fs.ErrInvalid)
	}
	n.data.flip(off, bit)
	if off < n.durable.size {
		n.durable.flip(off, bit)
	}
	return nil
}

// check runs before every operation: it enforces the crash point, counts
// mutating operations and fires matching faults. It returns the matched fault
// (nil if none) or an error.
func (f *FS) check(op Op, name string, mutating bool) (*Fault, error) {
	if f.dead {
		return nil, ErrCrashed
	}
	f.calls[op]++
	if mutating {
		if f.crashAt >= 0 && f.mutOps >= f.crashAt {
			f.dead = true
			return nil, ErrCrashed
		}
		f.mutOps++
	}
	base := filepath.Base(name)
	for _, ft := range f.faults {
		if ft.Op != op {
			continue
		}
		if ft.Name != "" {
			if ok, _ := path.Match(ft.Name, base); !ok {
				continue
			}
		}
		if ft.After > 0 {
			ft.After--
			continue
		}
		if !ft.Sticky {
			ft.Op = 0 // fired once; never matches again
		}
		return ft, nil
	}
	return nil, nil
}

func faultErr(ft *Fault) error {
	if ft.Err != nil {
		return ft.Err
	}
	return ErrInjected
}

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// parentDir returns the visible parent directory of p or an error.
func (f *FS) parentDir(op, p string) error {
	d, ok := f.cur[filepath.Dir(p)]
	if !ok || !d.dir {
		return pathErr(op, p, fs.ErrNotExist)
	}
	return nil
}

// OpenFile implements vfs.FS.
func (f *FS) OpenFile(name string, flag int, _ fs.FileMode) (vfs.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := filepath.Clean(name)
	n, exists := f.cur[p]
	if exists && n.dir {
		return nil, pathErr("open", name, fs.ErrInvalid)
	}
	creating := !exists && flag&os.O_CREATE != 0
	mutating := creating || (exists && flag&os.O_TRUNC != 0)
	op := OpRead
	if creating {
		op = OpCreate
	} else if mutating {
		op = OpTruncate
	}
	ft, err := f.check(op, p, mutating)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if ft != nil {
		return nil, pathErr("open", name, faultErr(ft))
	}
	switch {
	case exists && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, pathErr("open", name, fs.ErrExist)
	case !exists && !creating:
		return nil, pathErr("open", name, fs.ErrNotExist)
	case creating:
		if err := f.parentDir("open", p); err != nil {
			return nil, err
		}
		n = &node{modTime: time.Unix(0, 0)}
		f.cur[p] = n
	case flag&os.O_TRUNC != 0 && n.data.size > 0:
		n.data.truncate(0)
		n.pending = append(n.pending, pendingOp{kind: kindTruncate, size: 0})
	}
	return &file{fs: f, path: p, n: n, gen: f.gen, flag: flag}, nil
}

// Create implements vfs.FS.
func (f *FS) Create(name string) (vfs.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// ReadFile implements vfs.FS.
func (f *FS) ReadFile(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := filepath.Clean(name)
	ft, err := f.check(OpRead, p, false)
	if err != nil {
		return nil, pathErr("read", name, err)
	}
	if ft != nil {
		return nil, pathErr("read", name, faultErr(ft))
	}
	n, ok := f.cur[p]
	if !ok {
		return nil, pathErr("read", name, fs.ErrNotExist)
	}
	if n.dir {
		return nil, pathErr("read", name, fs.ErrInvalid)
	}
	return n.data.bytes(), nil
}

// Rename implements vfs.FS. Directories cannot be renamed.
func (f *FS) Rename(oldName, newName string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	op, np := filepath.Clean(oldName), filepath.Clean(newName)
	ft, err := f.check(OpRename, np, true)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldName, New: newName, Err: err}
	}
	if ft != nil {
		return &os.LinkError{Op: "rename", Old: oldName, New: newName, Err: faultErr(ft)}
	}
	n, ok := f.cur[op]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldName, New: newName, Err: fs.ErrNotExist}
	}
	if n.dir {
		return &os.LinkError{Op: "rename", Old: oldName, New: newName, Err: fs.ErrInvalid}
	}
	if t, ok := f.cur[np]; ok && t.dir {
		return &os.LinkError{Op: "rename", Old: oldName, New: newName, Err: fs.ErrExist}
	}
	if err := f.parentDir("rename", np); err != nil {
		return err
	}
	delete(f.cur, op)
	f.cur[np] = n
	return nil
}

// Remove implements vfs.FS. A directory must be empty.
func (f *FS) Remove(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := filepath.Clean(name)
	ft, err := f.check(OpRemove, p, true)
	if err != nil {
		return pathErr("remove", name, err)
	}
	if ft != nil {
		return pathErr("remove", name, faultErr(ft))
	}
	n, ok := f.cur[p]
	if !ok || isRoot(p) {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if n.dir && len(f.children(p)) > 0 {
		return pathErr("remove", name, errors.New("directory not empty"))
	}
	delete(f.cur, p)
	return nil
}

// MkdirAll implements vfs.FS.
func (f *FS) MkdirAll(dir string, _ fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := filepath.Clean(dir)
	var missing []string
	for q := p; !isRoot(q); q = filepath.Dir(q) {
		n, ok := f.cur[q]
		if ok {
			if !n.dir {
				return pathErr("mkdir", q, fs.ErrExist)
			}
			break
		}
		missing = append(missing, q)
	}
	if len(missing) == 0 {
		return nil
	}
	ft, err := f.check(OpMkdir, p, true)
	if err != nil {
		return pathErr("mkdir", dir, err)
	}
	if ft != nil {
		return pathErr("mkdir", dir, faultErr(ft))
	}
	for _, q := range missing {
		f.cur[q] = &node{dir: true}
	}
	return nil
}

func (f *FS) children(dir string) []string {
	var names []string
	for p := range f.cur {
		if !isRoot(p) && filepath.Dir(p) == dir {
			names = append(names, filepath.Base(p))
		}
	}
	sort.Strings(names)
	return names
}

// ReadDir implements vfs.FS.
func (f *FS) ReadDir(dir string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := filepath.Clean(dir)
	if _, err := f.check(OpRead, p, false); err != nil {
		return nil, pathErr("readdir", dir, err)
	}
	n, ok := f.cur[p]
	if !ok {
		return nil, pathErr("readdir", dir, fs.ErrNotExist)
	}
	if !n.dir {
		return nil, pathErr("readdir", dir, fs.ErrInvalid)
	}
	return f.children(p), nil
}

// Stat implements vfs.FS.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := filepath.Clean(name)
	if _, err := f.check(OpRead, p, false); err != nil {
		return nil, pathErr("stat", name, err)
	}
	n, ok := f.cur[p]
	if !ok {
		return nil, pathErr("stat", name, fs.ErrNotExist)
	}
	return fileInfo{name: filepath.Base(p), size: n.data.size, dir: n.dir}, nil
}

// Truncate implements vfs.FS.
func (f *FS) Truncate(name string, size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := filepath.Clean(name)
	n, ok := f.cur[p]
	if !ok || n.dir {
		return pathErr("truncate", name, fs.ErrNotExist)
	}
	return f.truncateNode(n, p, size)
}

func (f *FS) truncateNode(n *node, p string, size int64) error {
	ft, err := f.check(OpTruncate, p, true)
	if err != nil {
		return pathErr("truncate", p, err)
	}
	if ft != nil {
		return pathErr("truncate", p, faultErr(ft))
	}
	if size < 0 {
		return pathErr("truncate", p, fs.ErrInvalid)
	}
	n.data.truncate(size)
	n.pending = append(n.pending, pendingOp{kind: kindTruncate, size: size})
	return nil
}

// SyncDir implements vfs.FS.
func (f *FS) SyncDir(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := filepath.Clean(dir)
	ft, err := f.check(OpSyncDir, p, true)
	if err != nil {
		return pathErr("syncdir", dir, err)
	}
	if ft != nil {
		return pathErr("syncdir", dir, faultErr(ft))
	}
	n, ok := f.cur[p]
	if !ok || !n.dir {
		return pathErr("syncdir", dir, fs.ErrNotExist)
	}
	for q := range f.dur {
		if !isRoot(q) && filepath.Dir(q) == p {
			if _, ok := f.cur[q]; !ok {
				delete(f.dur, q)
			}
		}
	}
	for q, m := range f.cur {
		if !isRoot(q) && filepath.Dir(q) == p {
			f.dur[q] = m
		}
	}
	return nil
}

// String describes the FS state for test failure messages.
func (f *FS) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("faultfs{files=%d durable=%d mutOps=%d dead=%v}", len(f.cur), len(f.dur), f.mutOps, f.dead)
}
