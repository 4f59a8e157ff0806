package wal

import (
	"errors"
	"fmt"
	"math"

	"go.uber.org/zap"
)

// beginExclusive takes the structural lock and makes every flushed write
// durable. On success it returns with structMu held exclusively and mu held.
func (l *Log) beginExclusive() error {
	l.structMu.Lock()
	l.mu.Lock()
	if err := l.drainLocked(); err != nil {
		l.mu.Unlock()
		l.structMu.Unlock()
		return err
	}
	return nil
}

func (l *Log) endExclusive() {
	l.mu.Unlock()
	l.structMu.Unlock()
}

// TruncateSuffix drops every record with Index >= from (a raft conflict).
// from below FirstIndex is refused with ErrCompacted; from beyond the last
// index is a no-op.
//
// Crash safety: later segments are removed newest first, each removal made
// durable before the next, and only then is the segment holding from cut
// and fsynced. Every crash point leaves a prefix of the old log.
func (l *Log) TruncateSuffix(from uint64) error {
	if err := l.beginExclusive(); err != nil {
		return err
	}
	defer l.endExclusive()
	first := l.segs[0].first
	if from < first {
		return fmt.Errorf("%w: truncate from %d, first index %d", ErrCompacted, from, first)
	}
	if from > l.lastIndex {
		return nil
	}
	k := len(l.segs) - 1
	for l.segs[k].first > from {
		k--
	}
	s := l.segs[k]
	// Learn the new chain head before destroying anything.
	newTerm, newHash := s.prevTerm, s.prevHash
	if from > s.first {
		rec, hash, err := l.readOne(s.view(), from-1)
		if err != nil {
			return err
		}
		newTerm, newHash = rec.Term, hash
	}
	for len(l.segs)-1 > k {
		if err := l.removeSegmentLocked(len(l.segs) - 1); err != nil {
			return err
		}
	}
	cut := int64(SegmentHeaderBytes)
	if from > s.first {
		cut = s.offs[from-s.first]
	}
	if err := l.cutSegmentLocked(s, int(from-s.first), cut); err != nil {
		return l.setPoisonLocked(err)
	}
	n := from - s.first
	s.offs, s.terms, s.size = s.offs[:n:n], s.terms[:n:n], cut
	l.lastIndex, l.lastTerm, l.lastHash = from-1, newTerm, newHash
	l.durIndex, l.durTerm = l.lastIndex, l.lastTerm
	l.lg.Info("wal suffix truncated", zap.Uint64("from", from))
	return nil
}

// cutSegmentLocked drops the records of s from record keep (at offset cut)
// on. A version-1 segment is truncated and fsynced. In a preallocated one the
// records are zeroed in place, last first, each made durable before the one
// before it is touched: a crash then leaves a prefix of the old log followed
// by zeros or by one partly zeroed record (a torn tail), never zeros followed
// by a valid record, which recovery would call corruption (R11). With more
// than maxZeroInPlace records to drop, the file is instead truncated at cut
// (fsync) and re-filled with zeros to its preallocated size (fdatasync); a
// crash during the re-fill leaves a shorter zero tail, which is also clean.
func (l *Log) cutSegmentLocked(s *segment, keep int, cut int64) error {
	if s.version == segmentVersion2 && len(s.offs)-keep <= l.maxZeroInPlace {
		end := s.size
		for k := len(s.offs) - 1; k >= keep; k-- {
			if err := writeZeros(s.f, s.offs[k], end, nil); err != nil {
				return fmt.Errorf("wal: zero %s: %w", s.path, err)
			}
			if err := s.f.Datasync(); err != nil {
				return fsyncErr("sync zeroed record", err)
			}
			end = s.offs[k]
		}
		return nil
	}
	preallocated := s.fileSize
	if err := s.f.Truncate(cut); err != nil {
		return fmt.Errorf("wal: truncate %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fsyncErr("sync truncated segment", err)
	}
	s.fileSize = cut
	if s.version != segmentVersion2 {
		return nil
	}
	refill := max(cut, min(preallocated, l.segmentBytes))
	if err := writeZeros(s.f, cut, refill, nil); err != nil {
		return fmt.Errorf("wal: re-fill %s: %w", s.path, err)
	}
	if err := s.f.Datasync(); err != nil {
		return fsyncErr("sync re-filled segment", err)
	}
	s.fileSize = refill
	return nil
}

// removeSegmentLocked closes and deletes segment i (the newest or the
// oldest) and makes the removal durable before returning.
func (l *Log) removeSegmentLocked(i int) error {
	s := l.segs[i]
	if err := s.f.Close(); err != nil {
		l.lg.Warn("wal: close segment before removal", zap.String("file", s.path), zap.Error(err))
	}
	if err := l.fs.Remove(s.path); err != nil {
		return l.setPoisonLocked(fmt.Errorf("wal: remove %s: %w", s.path, err))
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.setPoisonLocked(fsyncErr("sync directory after segment removal", err))
	}
	if i == 0 {
		l.segs = l.segs[1:]
	} else {
		l.segs = l.segs[:i]
	}
	return nil
}

// CompactPrefix drops whole segments whose records all have Index <=
// through. The last segment is always kept, so the log never loses its base.
//
// Crash safety: segments are removed oldest first, each removal made durable
// before the next, so every crash point leaves a suffix of the segments whose
// first header still names the base.
func (l *Log) CompactPrefix(through uint64) error {
	if err := l.beginExclusive(); err != nil {
		return err
	}
	defer l.endExclusive()
	removed := 0
	for len(l.segs) > 1 && l.segs[1].first-1 <= through {
		if err := l.removeSegmentLocked(0); err != nil {
			return err
		}
		removed++
	}
	if removed > 0 {
		l.lg.Info("wal prefix compacted", zap.Uint64("through", through), zap.Int("segments_removed", removed),
			zap.Uint64("first_index", l.segs[0].first))
	}
	return nil
}

// Reset drops the whole log after a snapshot at (index, term) was installed:
// the next record is index+1, chained to chainHash. index may not be below
// the current base (FirstIndex()-1).
//
// Crash safety: a new base segment (flagged, with the new base in its header)
// is published atomically by tmp → fsync → rename → fsync(dir); that is the
// commit point. Recovery removes every segment older than the newest base
// segment, so a crash before it keeps the old log and after it the new one.
func (l *Log) Reset(index, term uint64, chainHash [32]byte) error {
	if err := l.beginExclusive(); err != nil {
		return err
	}
	defer l.endExclusive()
	if index == math.MaxUint64 {
		return fmt.Errorf("%w: reset to the largest index", ErrOutOfRange)
	}
	if base := l.segs[0].first - 1; index < base {
		return fmt.Errorf("%w: reset to %d below the current base %d", ErrOutOfRange, index, base)
	}
	h := segmentHeader{Flags: flagBase, Seq: l.tail().seq + 1, First: index + 1, PrevTerm: term, PrevHash: chainHash}
	l.mu.Unlock() // segment creation is slow I/O; structMu still excludes everyone else
	seg, err := l.newSegment(h)
	l.mu.Lock()
	if err != nil {
		return l.setPoisonLocked(err)
	}
	old := l.segs
	l.segs = append(l.segs, seg)
	for range old {
		if err := l.removeSegmentLocked(0); err != nil {
			return err
		}
	}
	l.lastIndex, l.lastTerm, l.lastHash = index, term, chainHash
	l.durIndex, l.durTerm = index, term
	l.lg.Info("wal reset", zap.Uint64("index", index), zap.Uint64("term", term))
	return nil
}

// Close makes every flushed write durable and closes the files. Later calls
// return ErrClosed (or the poison error).
func (l *Log) Close() error {
	l.stopPreparer()
	l.structMu.Lock()
	defer l.structMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if errors.Is(l.err, ErrClosed) {
		return ErrClosed
	}
	err := l.drainLocked()
	if cerr := l.closeFiles(); err == nil {
		err = cerr
	}
	if l.err == nil {
		l.err = ErrClosed
	}
	l.cond.Broadcast()
	return err
}

func (l *Log) closeFiles() error {
	var first error
	for _, s := range l.segs {
		if s.f == nil {
			continue
		}
		if err := s.f.Close(); err != nil && first == nil {
			first = fmt.Errorf("wal: close %s: %w", s.path, err)
		}
		s.f = nil
	}
	return first
}
