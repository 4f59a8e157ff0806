package wal

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"go.uber.org/zap"
)

// maxReadChunkBytes bounds one ReadAt during ReadFrom.
const maxReadChunkBytes = 4 << 20

// FirstIndex is the first retained record index (the base + 1).
func (l *Log) FirstIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.segs[0].first
}

// LastIndex is the index of the last durable record, or the base when the
// log holds no records (0 for a new log, i after Reset(i, ...)).
func (l *Log) LastIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durIndex
}

// LastTerm is the term of the last durable record, or the base term.
func (l *Log) LastTerm() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durTerm
}

// Term returns the term of the durable record at index, or the base term at
// FirstIndex()-1.
func (l *Log) Term(index uint64) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	if err := l.checkRangeLocked(index); err != nil {
		return 0, err
	}
	s := l.segs[0]
	if index == s.first-1 {
		return s.prevTerm, nil
	}
	s = l.findLocked(index)
	return s.terms[index-s.first], nil
}

// checkRangeLocked accepts FirstIndex()-1 ..= LastIndex().
func (l *Log) checkRangeLocked(index uint64) error {
	if base := l.segs[0].first - 1; index < base {
		return fmt.Errorf("%w: index %d, base %d", ErrCompacted, index, base)
	}
	if index > l.durIndex {
		return fmt.Errorf("%w: index %d, last index %d", ErrOutOfRange, index, l.durIndex)
	}
	return nil
}

// findLocked returns the segment holding index (which must be retained).
func (l *Log) findLocked(index uint64) *segment {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].first > index }) - 1
	return l.segs[i]
}

// ChainHash returns the chain hash of the record at index, or the base hash
// at FirstIndex()-1. The record is read back and its checksum verified.
func (l *Log) ChainHash(index uint64) ([32]byte, error) {
	l.structMu.RLock()
	defer l.structMu.RUnlock()
	l.mu.Lock()
	if err := l.err; err != nil {
		l.mu.Unlock()
		return [32]byte{}, err
	}
	if err := l.checkRangeLocked(index); err != nil {
		l.mu.Unlock()
		return [32]byte{}, err
	}
	if s := l.segs[0]; index == s.first-1 {
		l.mu.Unlock()
		return s.prevHash, nil
	}
	v := l.findLocked(index).view()
	l.mu.Unlock()
	_, hash, err := l.readOne(v, index)
	return hash, err
}

// readOne reads and checks one record (not its chain link, which needs the
// predecessor). Caller holds structMu in either mode, so the segment's file
// stays open and the view stays valid.
func (l *Log) readOne(v segView, index uint64) (Record, [32]byte, error) {
	k := int(index - v.s.first)
	start := v.offs[k]
	b := make([]byte, v.end(k)-start)
	if n, err := v.s.f.ReadAt(b, start); n != len(b) {
		return Record{}, [32]byte{}, fmt.Errorf("wal: read %s at %d: %w", v.s.path, start, errOrEOF(err))
	}
	rec, hash, n, err := decodeRecord(b)
	if err == nil && (n != len(b) || rec.Index != index || rec.Term != v.terms[k]) {
		err = fmt.Errorf("record does not match the index built at open (index %d, term %d)", rec.Index, rec.Term)
	}
	if err != nil {
		return Record{}, hash, l.readCorruption(v.s, start, index, err)
	}
	return rec, hash, nil
}

func errOrEOF(err error) error {
	if err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (l *Log) readCorruption(s *segment, off int64, index uint64, err error) error {
	cerr := &CorruptError{File: s.path, Offset: off, Index: index, Reason: "on read: " + err.Error()}
	l.lg.Error("wal corruption detected on read", zap.Error(cerr))
	return cerr
}

// ReadFrom calls fn for every durable record from lo through LastIndex(), in
// order, verifying checksum, index, term and chain link of each before fn
// sees it. lo below FirstIndex() gives ErrCompacted; lo == LastIndex()+1
// reads nothing. fn must not call methods of the Log (it runs under the
// structural read lock). An error from fn stops the iteration and is returned.
func (l *Log) ReadFrom(lo uint64, fn func(Record) error) error {
	l.structMu.RLock()
	defer l.structMu.RUnlock()
	l.mu.Lock()
	err, first, hi := l.err, l.segs[0].first, l.durIndex
	views := make([]segView, len(l.segs))
	for i, s := range l.segs {
		views[i] = s.view()
	}
	l.mu.Unlock()
	switch {
	case err != nil:
		return err
	case lo < first:
		return fmt.Errorf("%w: read from %d, first index %d", ErrCompacted, lo, first)
	case lo > hi+1:
		return fmt.Errorf("%w: read from %d, last index %d", ErrOutOfRange, lo, hi)
	case lo == hi+1:
		return nil
	}
	i := sort.Search(len(views), func(i int) bool { return views[i].s.first > lo }) - 1
	prev := views[i].s.prevHash
	if lo > views[i].s.first {
		if _, prev, err = l.readOne(views[i], lo-1); err != nil {
			return err
		}
	}
	for ; i < len(views) && lo <= hi; i++ {
		if lo, prev, err = l.readSegment(views[i], lo, hi, prev, fn); err != nil {
			return err
		}
	}
	return nil
}

// segView is a consistent snapshot of a segment's index.
type segView struct {
	s     *segment
	offs  []int64
	terms []uint64
	size  int64
}

// view snapshots the segment's index; call with Log.mu held (or structMu
// held exclusively).
func (s *segment) view() segView {
	return segView{s: s, offs: s.offs, terms: s.terms, size: s.size}
}

func (v segView) end(k int) int64 {
	if k+1 < len(v.offs) {
		return v.offs[k+1]
	}
	return v.size
}

// readSegment reads records lo..min(hi, last in segment) in chunks, verifies
// each and hands it to fn. It returns the next index and chain hash.
func (l *Log) readSegment(v segView, lo, hi uint64, prev [32]byte, fn func(Record) error) (uint64, [32]byte, error) {
	last := min(hi, v.s.first+uint64(len(v.offs))-1)
	for lo <= last {
		k0 := int(lo - v.s.first)
		k1 := k0 // chunk covers records k0..k1
		for uint64(k1+1)+v.s.first <= last && v.end(k1+1)-v.offs[k0] <= maxReadChunkBytes {
			k1++
		}
		start := v.offs[k0]
		buf := make([]byte, v.end(k1)-start)
		if n, err := v.s.f.ReadAt(buf, start); n != len(buf) {
			return 0, prev, fmt.Errorf("wal: read %s at %d: %w", v.s.path, start, errOrEOF(err))
		}
		for k := k0; k <= k1; k++ {
			off := v.offs[k] - start
			rec, stored, n, err := decodeRecord(buf[off:])
			if err == nil {
				err = checkRead(&rec, stored, prev, lo, v.terms[k], int64(n) == v.end(k)-v.offs[k])
			}
			if err != nil {
				return 0, prev, l.readCorruption(v.s, v.offs[k], lo, err)
			}
			if err := fn(rec); err != nil {
				return 0, prev, err
			}
			prev = stored
			lo++
		}
	}
	return lo, prev, nil
}

func checkRead(rec *Record, stored, prev [32]byte, index, term uint64, sizeOK bool) error {
	switch {
	case rec.Index != index:
		return fmt.Errorf("index gap: record has index %d", rec.Index)
	case rec.Term != term || !sizeOK:
		return errors.New("record does not match the index built at open")
	case chainHash(prev, rec) != stored:
		return errors.New("broken chain: record hash does not match its predecessor and contents")
	}
	return nil
}
