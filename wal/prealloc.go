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

// PreallocMode chooses how a segment gets its disk space.
type PreallocMode int

const (
	// PreallocBackground (the default) creates every segment zero-filled to
	// SegmentBytes (format version 2), so appends overwrite allocated blocks
	// and the group-commit sync is an fdatasync without an inode update. Once
	// the last segment is half full, a background goroutine prepares the next
	// one as a spare file, keeping the zero fill off the commit path.
	PreallocBackground PreallocMode = iota
	// PreallocInline creates zero-filled segments like PreallocBackground
	// but only when one is needed (new log, rollover, Reset), on the calling
	// goroutine: no background work, and that rollover pays the fill.
	PreallocInline
	// PreallocOff creates version-1 segments that grow with every append,
	// so each sync also commits the file size. For file systems where
	// writing zeros ahead buys nothing (copy-on-write ones).
	PreallocOff
)

func (m PreallocMode) String() string {
	switch m {
	case PreallocBackground:
		return "background"
	case PreallocInline:
		return "inline"
	case PreallocOff:
		return "off"
	}
	return fmt.Sprintf("PreallocMode(%d)", int(m))
}

// spareState is the life cycle of the spare file, guarded by Log.mu.
type spareState int

const (
	spareNone    spareState = iota // no usable spare
	spareFilling                   // the preparer is writing spareName+tmpSuffix
	spareReady                     // spareName exists, zero-filled to SegmentBytes and durable
	spareTaken                     // a rollover or Reset is turning it into a segment
)

// maxZeroInPlaceRecords bounds how many records TruncateSuffix zeroes one
// by one (one fdatasync each); beyond it, truncating and re-filling the rest
// of the segment is cheaper.
const maxZeroInPlaceRecords = 32

// spareSyncStepBytes paces the spare's zero fill: it is flushed every 4 MiB
// rather than by one fsync at the end, because a commit whose fdatasync
// lands behind a 64 MiB flush waits for all of it. Measured on the dev
// machine (1 writer, 4 KiB appends, 40,000 appends, two spares): one final
// fsync gave a 70 ms worst append; 4 MiB steps 14 ms (p999 1.3 ms, mean 5%
// higher); 1 MiB steps 8 ms but p999 2 ms; 16 MiB steps 23 ms.
const spareSyncStepBytes = 4 << 20

// fillChunkBytes is the size of one zero-fill write.
const fillChunkBytes = 1 << 20

var zeroChunk = sync.OnceValue(func() []byte { return make([]byte, fillChunkBytes) })

// errSpareCancelled stops a spare preparation when the Log closes.
var errSpareCancelled = errors.New("wal: spare preparation cancelled")

// writeZeros writes zero bytes over [from, to) of f, a chunk at a time,
// stopping early when quit is closed.
func writeZeros(f vfs.File, from, to int64, quit <-chan struct{}) error {
	z := zeroChunk()
	for off := from; off < to; {
		k := min(int64(len(z)), to-off)
		if n, err := f.WriteAt(z[:k], off); err != nil || int64(n) != k {
			return fmt.Errorf("write zeros at %d (%d of %d bytes): %w", off, n, k, errOrShort(err))
		}
		off += k
		select {
		case <-quit:
			return errSpareCancelled
		default:
		}
	}
	return nil
}

func errOrShort(err error) error {
	if err == nil {
		return errors.New("short write")
	}
	return err
}

// newSegment creates the segment described by h: from the spare when one is
// ready, else by the segment creation steps (zero-filled unless PreallocOff).
// Called without mu; the caller excludes other structural changes (wmu for a
// rollover, structMu exclusively for Reset, or Open).
func (l *Log) newSegment(h segmentHeader) (*segment, error) {
	if l.prealloc == PreallocOff {
		h.Version = segmentVersion1
		return l.createSegment(h)
	}
	h.Version = segmentVersion2
	l.mu.Lock()
	for l.spare == spareFilling {
		l.cond.Wait() // started at half a segment ago; finishing it beats a second fill
	}
	fromSpare := l.spare == spareReady
	if fromSpare {
		l.spare = spareTaken
	}
	l.mu.Unlock()
	var seg *segment
	var err error
	if fromSpare {
		seg, err = l.publishSpare(h)
	} else {
		seg, err = l.createSegment(h)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if fromSpare {
		l.spare = spareNone
		l.cond.Broadcast()
	}
	if err == nil {
		l.spareFailed = false // a new tail: let the preparer try again
		if fromSpare {
			l.stats.SegmentsFromSpare++
		} else if h.Version == segmentVersion2 {
			l.stats.SegmentsFilledInline++
		}
	}
	return seg, err
}

// publishSpare turns the ready spare into segment h: write the header,
// fdatasync, rename to the segment name, fsync the directory. Before the
// rename is durable a crash leaves the spare (its stale header is rewritten
// when it is used); after it, a complete empty preallocated segment.
func (l *Log) publishSpare(h segmentHeader) (*segment, error) {
	spare := filepath.Join(l.dir, spareName)
	path := filepath.Join(l.dir, segmentName(h.Seq, h.First))
	f, err := l.fs.OpenFile(spare, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: open spare: %w", err)
	}
	hdr := h.encode()
	if n, err := f.WriteAt(hdr, 0); err != nil || n != len(hdr) {
		_ = f.Close()
		return nil, fmt.Errorf("wal: write segment header into spare (%d of %d bytes): %w", n, len(hdr), errOrShort(err))
	}
	if err := f.Datasync(); err != nil {
		_ = f.Close()
		return nil, fsyncErr("sync spare header", err)
	}
	if f, err = l.publish(f, spare, path, "spare"); err != nil {
		return nil, err
	}
	l.lg.Debug("wal segment created from spare", zap.String("file", path), zap.Uint64("first_index", h.First))
	return &segment{seq: h.Seq, first: h.First, path: path, f: f, size: SegmentHeaderBytes, fileSize: l.segmentBytes,
		version: segmentVersion2, prevTerm: h.PrevTerm, prevHash: h.PrevHash}, nil
}

// spareWantedLocked: a background preparation is due when the tail is half
// full and no spare exists or is being made.
func (l *Log) spareWantedLocked() bool {
	return l.prealloc == PreallocBackground && !l.spareStopped && !l.spareFailed && l.err == nil &&
		l.spare == spareNone && 2*l.tail().size >= l.segmentBytes
}

// kickSpareLocked requests a spare when one is due: the state becomes
// spareFilling at once, so a rollover that comes before the preparer runs
// waits for it rather than filling a second file. The preparer goroutine
// starts on first use. With the test-only inline option the caller must
// instead run fillSpare itself after releasing mu (reported by runInline),
// so tests see every file system step in a deterministic order.
func (l *Log) kickSpareLocked() (runInline bool) {
	if !l.spareWantedLocked() {
		return false
	}
	l.spare = spareFilling
	if l.spareInline {
		return true
	}
	if l.spareWake == nil {
		l.spareWake, l.spareQuit, l.spareDone = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go l.runPreparer(l.spareWake, l.spareQuit, l.spareDone)
	}
	select {
	case l.spareWake <- struct{}{}:
	default: // already signalled
	}
	return false
}

func (l *Log) kickSpare() {
	l.mu.Lock()
	inline := l.kickSpareLocked()
	l.mu.Unlock()
	if inline {
		l.fillSpare(nil)
	}
}

func (l *Log) runPreparer(wake, quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-quit:
			// A request not yet served must not keep a rollover waiting.
			l.mu.Lock()
			if l.spare == spareFilling {
				l.spare = spareNone
				l.cond.Broadcast()
			}
			l.mu.Unlock()
			return
		case <-wake:
			l.fillSpare(quit)
		}
	}
}

// stopPreparer cancels a preparation in progress and waits for the
// goroutine; no new one starts afterwards.
func (l *Log) stopPreparer() {
	l.mu.Lock()
	l.spareStopped = true
	quit, done := l.spareQuit, l.spareDone
	l.spareQuit = nil
	l.mu.Unlock()
	if quit != nil {
		close(quit)
		<-done
	}
}

// fillSpare serves a request made by kickSpareLocked (state spareFilling). A
// failed fsync poisons the Log (the zeros cannot be trusted, and a failed
// fsync is always fatal); any other failure only stops background
// preparation until the next segment, so the next rollover fills inline and
// reports the error itself if it persists.
func (l *Log) fillSpare(quit <-chan struct{}) {
	err := l.writeSpare(quit)
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.cond.Broadcast()
	l.spare = spareNone
	switch {
	case err == nil:
		l.spare = spareReady
	case errors.Is(err, ErrFsyncFailed):
		_ = l.setPoisonLocked(err)
	case errors.Is(err, errSpareCancelled):
	default:
		l.spareFailed = true
		l.lg.Warn("wal: preparing the next segment failed; the next rollover fills it inline", zap.Error(err))
	}
}

// fillInSteps writes the spare's zeros spareSyncStepBytes at a time,
// fdatasyncing between steps (the final sync is the caller's).
func (l *Log) fillInSteps(f vfs.File, quit <-chan struct{}) error {
	for off := int64(0); off < l.segmentBytes; off += spareSyncStepBytes {
		end := min(off+spareSyncStepBytes, l.segmentBytes)
		if err := writeZeros(f, off, end, quit); err != nil {
			return fmt.Errorf("wal: fill spare: %w", err)
		}
		if end < l.segmentBytes {
			if err := f.Datasync(); err != nil {
				return fsyncErr("sync spare fill step", err)
			}
		}
	}
	return nil
}

// writeSpare: write zeros to <spare>.tmp (flushed in steps), fsync, rename
// to the spare name, fsync the directory. A crash leaves the .tmp (removed
// by recovery, R2) or a complete, durable spare.
func (l *Log) writeSpare(quit <-chan struct{}) error {
	tmp := filepath.Join(l.dir, spareName+tmpSuffix)
	f, err := l.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("wal: create spare: %w", err)
	}
	err = l.fillInSteps(f, quit)
	if err == nil {
		if serr := f.Sync(); serr != nil {
			err = fsyncErr("sync spare", serr)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("wal: close spare: %w", cerr)
	}
	if err == nil {
		if err = l.fs.Rename(tmp, filepath.Join(l.dir, spareName)); err != nil {
			return fmt.Errorf("wal: publish spare: %w", err)
		}
		if serr := l.fs.SyncDir(l.dir); serr != nil {
			return fsyncErr("sync directory after preparing spare", serr)
		}
		l.lg.Debug("wal spare segment prepared", zap.Int64("bytes", l.segmentBytes))
		return nil
	}
	if rerr := l.fs.Remove(tmp); rerr != nil { // not durable: recovery removes a survivor (R2)
		l.lg.Warn("wal: remove unfinished spare", zap.Error(rerr))
	}
	return err
}
