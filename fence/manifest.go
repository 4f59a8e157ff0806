package fence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"sync"

	"github.com/chr2sql/chr2sql/vfs"
)

// File names inside the manifest directory.
const (
	FileName    = "manifest"
	tmpFileName = "manifest.tmp"
	// EncodedBytes is the size of an encoded manifest.
	EncodedBytes = 64
	version      = 1
)

var (
	magic      = [8]byte{'c', 'h', 'r', '2', 'f', 'n', 'c', 0}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

var (
	// ErrCorrupt is matched by every *CorruptError.
	ErrCorrupt = errors.New("fence: corrupt manifest")
	// ErrRegression rejects a Save that would move a fact backwards.
	ErrRegression = errors.New("fence: state regression")
	// ErrStaleTerm rejects a message from a term below the node's term.
	ErrStaleTerm = errors.New("fence: stale term")
	// ErrPoisoned is returned by every Save after an I/O failure.
	ErrPoisoned = errors.New("fence: manifest poisoned by an earlier I/O failure")
	// ErrFsyncFailed marks a failed fsync; the caller must crash.
	ErrFsyncFailed = errors.New("fence: fsync failed")
)

// State is what the manifest remembers.
type State struct {
	NodeID    uint64
	ClusterID uint64
	Term      uint64 // raft term ("view"); never decreases
	Vote      uint64 // vote in Term; once set for a term it never changes within that term
	Commit    uint64 // lazily kept; may lag
}

// CorruptError reports a manifest file that exists but fails verification.
type CorruptError struct {
	File   string
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("fence: corrupt manifest %s: %s", e.File, e.Reason)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

func encode(s State) []byte {
	b := make([]byte, EncodedBytes)
	copy(b[0:8], magic[:])
	binary.LittleEndian.PutUint32(b[8:], version)
	binary.LittleEndian.PutUint64(b[16:], s.NodeID)
	binary.LittleEndian.PutUint64(b[24:], s.ClusterID)
	binary.LittleEndian.PutUint64(b[32:], s.Term)
	binary.LittleEndian.PutUint64(b[40:], s.Vote)
	binary.LittleEndian.PutUint64(b[48:], s.Commit)
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
	return b
}

// decode never panics; it accepts exactly what encode produces.
func decode(b []byte) (State, error) {
	if len(b) != EncodedBytes {
		return State{}, fmt.Errorf("size %d, want %d", len(b), EncodedBytes)
	}
	if crc32.Checksum(b[:60], castagnoli) != binary.LittleEndian.Uint32(b[60:]) {
		return State{}, errors.New("checksum mismatch")
	}
	if [8]byte(b[0:8]) != magic {
		return State{}, errors.New("bad magic")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != version {
		return State{}, fmt.Errorf("unsupported format version %d", v)
	}
	if binary.LittleEndian.Uint32(b[12:]) != 0 || binary.LittleEndian.Uint32(b[56:]) != 0 {
		return State{}, errors.New("reserved bytes not zero")
	}
	return State{
		NodeID:    binary.LittleEndian.Uint64(b[16:]),
		ClusterID: binary.LittleEndian.Uint64(b[24:]),
		Term:      binary.LittleEndian.Uint64(b[32:]),
		Vote:      binary.LittleEndian.Uint64(b[40:]),
		Commit:    binary.LittleEndian.Uint64(b[48:]),
	}, nil
}

// Manifest is the durable fencing state of one node. Safe for concurrent use.
type Manifest struct {
	fs  vfs.FS
	dir string

	mu     sync.Mutex
	state  State
	exists bool
	err    error // poison; sticky
}

// Open loads <dir>/manifest. A missing file gives an empty state
// (Exists() == false); a damaged one a *CorruptError. Open never writes.
func Open(fsys vfs.FS, dir string) (*Manifest, error) {
	if fsys == nil {
		fsys = vfs.OS
	}
	m := &Manifest{fs: fsys, dir: filepath.Clean(dir)}
	path := filepath.Join(m.dir, FileName)
	b, err := fsys.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return m, nil
	case err != nil:
		return nil, fmt.Errorf("fence: read %s: %w", path, err)
	}
	s, err := decode(b)
	if err != nil {
		return nil, &CorruptError{File: path, Reason: err.Error()}
	}
	m.state, m.exists = s, true
	return m, nil
}

// Exists reports whether a manifest was loaded or saved.
func (m *Manifest) Exists() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.exists
}

// State returns the last durable state.
func (m *Manifest) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// Save makes s durable (see the package steps). It returns ErrRegression for
// a transition that moves a fact backwards, without writing anything.
func (m *Manifest) Save(s State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if err := CheckTransition(m.state, s); err != nil {
		return err
	}
	if m.exists && s == m.state {
		return nil
	}
	if err := m.write(s); err != nil {
		m.err = fmt.Errorf("%w: %w", ErrPoisoned, err)
		return m.err
	}
	m.state, m.exists = s, true
	return nil
}

func (m *Manifest) write(s State) error {
	if !m.exists {
		if err := vfs.MkdirAllDurable(m.fs, m.dir, 0o755); err != nil {
			if errors.Is(err, vfs.ErrSyncDir) {
				return fmt.Errorf("%w: %w", ErrFsyncFailed, err)
			}
			return fmt.Errorf("fence: create %s: %w", m.dir, err)
		}
	}
	tmp, path := filepath.Join(m.dir, tmpFileName), filepath.Join(m.dir, FileName)
	f, err := m.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("fence: create %s: %w", tmp, err)
	}
	b := encode(s)
	if n, err := f.Write(b); err != nil || n != len(b) {
		_ = f.Close()
		return fmt.Errorf("fence: write %s (%d of %d bytes): %w", tmp, n, len(b), err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("%w: %s: %w", ErrFsyncFailed, tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("fence: close %s: %w", tmp, err)
	}
	if err := m.fs.Rename(tmp, path); err != nil {
		return fmt.Errorf("fence: rename %s: %w", tmp, err)
	}
	if err := m.fs.SyncDir(m.dir); err != nil {
		return fmt.Errorf("%w: directory %s: %w", ErrFsyncFailed, m.dir, err)
	}
	return nil
}
