package wal

import (
	"errors"
	"fmt"
)

var (
	// ErrCorrupt is matched by every *CorruptError.
	ErrCorrupt = errors.New("wal: corrupt log")
	// ErrFsyncFailed means an fsync failed; the Log is poisoned and the
	// caller must crash the process. Never retried.
	ErrFsyncFailed = errors.New("wal: fsync failed")
	// ErrPoisoned is returned by every call after an I/O failure on the write
	// path (a failed fsync, write, rename, remove or truncate).
	ErrPoisoned = errors.New("wal: log poisoned by an earlier I/O failure")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("wal: log closed")
	// ErrNotContiguous rejects an Append whose records do not continue the log.
	ErrNotContiguous = errors.New("wal: records not contiguous with the log")
	// ErrTermRegression rejects a record whose term is below its predecessor's.
	ErrTermRegression = errors.New("wal: record term below the previous term")
	// ErrRecordTooLarge rejects a record whose data exceeds MaxDataBytes.
	ErrRecordTooLarge = errors.New("wal: record too large")
	// ErrCompacted means the requested index precedes FirstIndex.
	ErrCompacted = errors.New("wal: index compacted")
	// ErrOutOfRange means the requested index is beyond LastIndex (or an
	// argument would move the log base backwards).
	ErrOutOfRange = errors.New("wal: index out of range")
)

// CorruptError reports committed data that fails verification. It names the
// segment file, the byte offset inside it and the log index expected there.
type CorruptError struct {
	File   string // path of the segment file
	Offset int64  // byte offset inside File
	Index  uint64 // index expected at Offset (0 when not known)
	Reason string // what is wrong, for humans
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("wal: corrupt log: file %s offset %d index %d: %s", e.File, e.Offset, e.Index, e.Reason)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// poison wraps cause so that errors.Is matches ErrPoisoned and cause's chain
// (which carries ErrFsyncFailed when an fsync failed).
func poison(cause error) error {
	return fmt.Errorf("%w: %w", ErrPoisoned, cause)
}

// fsyncErr marks an fsync failure.
func fsyncErr(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrFsyncFailed, what, err)
}
