package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/vfs"
)

// DefaultSegmentBytes is the rollover size when Options.SegmentBytes is 0.
const DefaultSegmentBytes = 64 << 20

// minSegmentBytes keeps room for a header and one empty record.
const minSegmentBytes = SegmentHeaderBytes + RecordHeaderBytes

// maxKeptBufferBytes bounds the encode buffer kept between Appends.
const maxKeptBufferBytes = 8 << 20

// Options configure Open.
type Options struct {
	Dir          string // <data-dir>/wal
	FS           vfs.FS // nil → vfs.OS
	SegmentBytes int64  // rollover size and preallocated size; default 64 MiB
	Logger       *zap.Logger
	// Preallocate chooses how segments get their space; the zero value is
	// PreallocBackground. Logs written in any mode open in every mode.
	Preallocate PreallocMode

	// spareInline (test-only) runs the background spare preparation on the
	// goroutine that triggered it, so fault tests see a deterministic order
	// of file system steps.
	spareInline bool
}

// segment is an open segment file and the in-memory index of its records.
// offs and terms grow only under Log.mu; structural operations replace them
// while holding Log.structMu exclusively.
type segment struct {
	seq      uint64
	first    uint64
	path     string
	f        vfs.File
	size     int64  // end of the last record: where the next one goes
	fileSize int64  // bytes in the file (>= size; larger when preallocated)
	version  uint32 // segmentVersion1 or segmentVersion2 (preallocated)
	prevTerm uint64
	prevHash [32]byte
	offs     []int64
	terms    []uint64
}

// Log is the strict write-ahead log. See the package documentation for the
// locking and durability rules.
type Log struct {
	fs           vfs.FS
	dir          string
	segmentBytes int64
	lg           *zap.Logger
	created      bool
	prealloc     PreallocMode
	spareInline  bool
	// maxZeroInPlace is maxZeroInPlaceRecords; tests lower it to reach the
	// truncate-and-refill path of TruncateSuffix.
	maxZeroInPlace int

	// structMu: shared by Append's write phase and readers, exclusive for
	// TruncateSuffix, CompactPrefix, Reset and Close.
	structMu sync.RWMutex
	// wmu serializes the write phase of appenders (encode, write, rollover).
	wmu sync.Mutex
	buf []byte // encode buffer, guarded by wmu

	// mu guards everything below; cond signals the end of an fsync round.
	mu   sync.Mutex
	cond sync.Cond
	segs []*segment
	// Appended state, including records written but not yet fsynced.
	lastIndex uint64
	lastTerm  uint64
	lastHash  [32]byte
	// Durable state: covered by a successful fsync.
	durIndex uint64
	durTerm  uint64
	// Group commit: every flushed write bumps writeSeq; an fsync round that
	// started after write n sets syncedSeq >= n when it succeeds.
	writeSeq  uint64
	syncedSeq uint64
	syncing   bool
	// entered and finished count appenders in AppendAsync; a would-be syncer
	// waits until those that entered before it finished, so one round covers
	// every write already under way (bounded: later arrivals are not waited for).
	entered  uint64
	finished uint64
	err      error // poison or ErrClosed; sticky
	stats    Stats
	// The spare segment and its background preparer (prealloc.go).
	spare        spareState
	spareFailed  bool // last preparation failed: none until the next segment
	spareStopped bool // Close began: never start a preparation again
	spareWake    chan struct{}
	spareQuit    chan struct{}
	spareDone    chan struct{}
}

// Stats are cumulative counters since Open, for metrics (entries and bytes
// per fsync).
type Stats struct {
	Appends     uint64 // AppendAsync calls that wrote records
	Records     uint64 // records written
	Bytes       uint64 // encoded bytes written
	FsyncRounds uint64 // fdatasyncs of segment files (group commit rounds and rollovers)
	// SegmentsFromSpare counts segments made from a spare prepared in the
	// background; SegmentsFilledInline those zero-filled on the calling
	// path (a new log, or a rollover or Reset that found no spare ready).
	SegmentsFromSpare    uint64
	SegmentsFilledInline uint64
}

// Stats returns the counters.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Open opens (creating if needed) the log in opts.Dir and runs recovery: it
// removes leftovers of interrupted operations and truncates a torn tail, or
// returns a *CorruptError and changes nothing.
func Open(opts Options) (*Log, error) {
	if opts.FS == nil {
		opts.FS = vfs.OS
	}
	if opts.SegmentBytes == 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.SegmentBytes < minSegmentBytes {
		return nil, fmt.Errorf("wal: SegmentBytes %d below the minimum %d", opts.SegmentBytes, minSegmentBytes)
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Preallocate < PreallocBackground || opts.Preallocate > PreallocOff {
		return nil, fmt.Errorf("wal: unknown Preallocate mode %d", opts.Preallocate)
	}
	l := &Log{fs: opts.FS, dir: filepath.Clean(opts.Dir), segmentBytes: opts.SegmentBytes, lg: opts.Logger,
		prealloc: opts.Preallocate, spareInline: opts.spareInline, maxZeroInPlace: maxZeroInPlaceRecords}
	l.cond.L = &l.mu
	if err := vfs.MkdirAllDurable(l.fs, l.dir, 0o755); err != nil {
		if errors.Is(err, vfs.ErrSyncDir) {
			return nil, fsyncErr("create directory", err)
		}
		return nil, fmt.Errorf("wal: create directory: %w", err)
	}
	res, err := scanDir(l.fs, l.dir, nil)
	if err != nil {
		return nil, fmt.Errorf("wal: recovery scan: %w", err)
	}
	if res.corrupt != nil {
		l.lg.Error("wal corrupt; refusing to open", zap.Error(res.corrupt))
		return nil, res.corrupt
	}
	if err := l.repair(res); err != nil {
		return nil, err
	}
	if res.spare != "" && l.prealloc != PreallocOff {
		// A spare of another size (SegmentBytes changed) is left alone and
		// replaced by the next preparation.
		if st, err := l.fs.Stat(res.spare); err == nil && st.Size() == l.segmentBytes {
			l.spare = spareReady
		}
	}
	if err := l.load(res.segs); err != nil {
		l.closeFiles()
		return nil, err
	}
	l.lg.Info("wal opened", zap.String("dir", l.dir), zap.Uint64("first_index", l.segs[0].first),
		zap.Uint64("last_index", l.lastIndex), zap.Int("segments", len(l.segs)), zap.Stringer("preallocate", l.prealloc))
	l.kickSpare()
	return l, nil
}

// repair carries out what the scan decided is recoverable, each step made
// durable before the next: leftovers are removed, then the torn tail is cut.
func (l *Log) repair(res *scanResult) error {
	for _, list := range [][]string{res.tmps, res.obsolete} {
		for _, path := range list {
			l.lg.Warn("wal recovery: removing leftover of an interrupted operation", zap.String("file", path))
			if err := l.fs.Remove(path); err != nil {
				return fmt.Errorf("wal: recovery: remove %s: %w", path, err)
			}
		}
	}
	if len(res.tmps)+len(res.obsolete) > 0 {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return fsyncErr("sync directory after removing leftovers", err)
		}
	}
	for _, path := range res.unknown {
		l.lg.Warn("wal recovery: ignoring unknown file", zap.String("file", path))
	}
	if t := res.torn; t != nil {
		return l.repairTorn(t, res.segs[len(res.segs)-1])
	}
	return nil
}

// repairTorn cuts a torn tail: a version-1 segment is truncated at the torn
// record and fsynced; in a version-2 segment the torn bytes are overwritten
// with zeros and fdatasynced, so the segment keeps its preallocated blocks.
// A crash during either leaves a torn tail again, never a plausible record.
func (l *Log) repairTorn(t *tornTail, last *scannedSegment) error {
	l.lg.Warn("wal recovery: cutting torn tail", zap.String("file", t.path), zap.Int64("offset", t.offset),
		zap.Uint64("index", t.index), zap.Int64("dropped_bytes", t.drop), zap.Bool("zero_fill", t.zeroTo > 0),
		zap.String("reason", t.reason))
	f, err := l.fs.OpenFile(t.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: recovery: open %s: %w", t.path, err)
	}
	defer f.Close()
	if t.zeroTo > 0 {
		if err := writeZeros(f, t.offset, t.zeroTo, nil); err != nil {
			return fmt.Errorf("wal: recovery: zero torn tail of %s: %w", t.path, err)
		}
		if err := f.Datasync(); err != nil {
			return fsyncErr("sync zeroed tail", err)
		}
		return nil
	}
	if err := f.Truncate(t.offset); err != nil {
		return fmt.Errorf("wal: recovery: truncate %s: %w", t.path, err)
	}
	if err := f.Sync(); err != nil {
		return fsyncErr("sync truncated tail", err)
	}
	last.fileSize = t.offset
	return nil
}

// load opens every retained segment (creating the first one for a new log)
// and sets the in-memory state.
func (l *Log) load(scanned []*scannedSegment) error {
	for _, s := range scanned {
		f, err := l.fs.OpenFile(s.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("wal: open segment: %w", err)
		}
		l.segs = append(l.segs, &segment{seq: s.hdr.Seq, first: s.hdr.First, path: s.path, f: f, size: s.size,
			fileSize: s.fileSize, version: s.hdr.Version, prevTerm: s.hdr.PrevTerm, prevHash: s.hdr.PrevHash,
			offs: s.offs, terms: s.terms})
	}
	if len(l.segs) == 0 {
		seg, err := l.newSegment(segmentHeader{Flags: flagBase, Seq: 1, First: 1})
		if err != nil {
			return err
		}
		l.segs = []*segment{seg}
		l.created = true
		l.lastIndex, l.lastTerm = 0, 0
	} else {
		t := scanned[len(scanned)-1]
		l.lastIndex, l.lastTerm, l.lastHash = t.next()-1, t.lastTerm, t.lastHash
	}
	l.durIndex, l.durTerm = l.lastIndex, l.lastTerm
	return nil
}

// Created reports whether Open found no segments and started a new, empty
// log. A caller that has other durable state (a manifest) should treat a
// freshly created log as lost data.
func (l *Log) Created() bool { return l.created }

// createSegment makes a segment appear atomically with a complete, durable
// header: write <name>.tmp (a version-2 one zero-filled to SegmentBytes) →
// fsync → rename → fsync(dir) → reopen.
func (l *Log) createSegment(h segmentHeader) (*segment, error) {
	path := filepath.Join(l.dir, segmentName(h.Seq, h.First))
	tmp := path + tmpSuffix
	f, err := l.fs.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	hdr := h.encode()
	if n, err := f.WriteAt(hdr, 0); err != nil || n != len(hdr) {
		_ = f.Close()
		return nil, fmt.Errorf("wal: write segment header (%d of %d bytes): %w", n, len(hdr), errOrShort(err))
	}
	fileSize := int64(SegmentHeaderBytes)
	if h.Version == segmentVersion2 {
		if err := writeZeros(f, SegmentHeaderBytes, l.segmentBytes, nil); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("wal: preallocate segment: %w", err)
		}
		fileSize = max(fileSize, l.segmentBytes)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return nil, fsyncErr("sync new segment", err)
	}
	if f, err = l.publish(f, tmp, path, "new segment"); err != nil {
		return nil, err
	}
	l.lg.Debug("wal segment created", zap.String("file", path), zap.Uint64("first_index", h.First))
	return &segment{seq: h.Seq, first: h.First, path: path, f: f, size: SegmentHeaderBytes, fileSize: fileSize,
		version: max(h.Version, segmentVersion1), prevTerm: h.PrevTerm, prevHash: h.PrevHash}, nil
}

// publish makes a fully written and synced file (from) the segment path:
// close, rename, fsync the directory (the name is durable only then), and
// reopen it for appends. what names the file in errors.
func (l *Log) publish(f vfs.File, from, path, what string) (vfs.File, error) {
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("wal: close %s: %w", what, err)
	}
	if err := l.fs.Rename(from, path); err != nil {
		return nil, fmt.Errorf("wal: publish %s as %s: %w", what, filepath.Base(path), err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return nil, fsyncErr("sync directory after publishing "+what, err)
	}
	f, err := l.fs.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: reopen segment: %w", err)
	}
	return f, nil
}

func (l *Log) tail() *segment { return l.segs[len(l.segs)-1] }

// setPoisonLocked records the first I/O failure; every later call returns it.
func (l *Log) setPoisonLocked(cause error) error {
	if l.err == nil || errors.Is(l.err, ErrClosed) {
		l.err = poison(cause)
		l.lg.Error("wal poisoned; the process must restart", zap.Error(cause))
	}
	l.cond.Broadcast()
	return l.err
}

// syncRoundLocked runs one fsync of the tail that covers every write flushed
// so far. Called with mu held and no round in progress; returns with mu held.
func (l *Log) syncRoundLocked() error {
	l.syncing = true
	target, idx, term, f := l.writeSeq, l.lastIndex, l.lastTerm, l.tail().f
	l.mu.Unlock()
	err := f.Datasync()
	l.mu.Lock()
	l.syncing = false
	l.stats.FsyncRounds++
	if err != nil {
		return l.setPoisonLocked(fsyncErr("sync segment", err))
	}
	if target > l.syncedSeq {
		l.syncedSeq, l.durIndex, l.durTerm = target, idx, term
	}
	l.cond.Broadcast()
	return l.err
}

// drainLocked waits for any fsync round and makes every flushed write
// durable. Called with mu held by a structural operation.
func (l *Log) drainLocked() error {
	for l.syncing {
		l.cond.Wait()
	}
	if l.err != nil {
		return l.err
	}
	if l.syncedSeq < l.writeSeq {
		return l.syncRoundLocked()
	}
	return nil
}
