package wal

import (
	"fmt"
	"runtime"
)

// Pending is an Append whose records are written but maybe not yet durable.
type Pending struct {
	l   *Log
	seq uint64
}

// Wait returns once an fsync covering the records succeeded, or the error
// that poisoned the log. Concurrent waiters share fsync rounds.
func (p Pending) Wait() error {
	if p.l == nil {
		return nil
	}
	return p.l.waitDurable(p.seq)
}

// Append writes recs, which must continue the log contiguously from the last
// appended index, and returns after an fsync that covers them. Concurrent
// Appends share fsyncs (group commit).
func (l *Log) Append(recs []Record) error {
	p, err := l.AppendAsync(recs)
	if err != nil {
		return err
	}
	return p.Wait()
}

// AppendAsync is the write half of Append: it validates, encodes and writes
// recs and returns without waiting for durability. Callers that pick indexes
// concurrently call it under their own lock and Wait outside it, which is how
// several goroutines share one fsync. Records are not visible to readers
// (LastIndex, ReadFrom) until durable.
func (l *Log) AppendAsync(recs []Record) (Pending, error) {
	if len(recs) == 0 {
		l.mu.Lock()
		defer l.mu.Unlock()
		return Pending{}, l.err
	}
	l.mu.Lock()
	l.entered++
	l.mu.Unlock()
	defer l.finishWrite()
	l.structMu.RLock()
	defer l.structMu.RUnlock()
	l.wmu.Lock()
	defer l.wmu.Unlock()

	l.mu.Lock()
	err, next, term, hash, tail := l.err, l.lastIndex+1, l.lastTerm, l.lastHash, l.tail()
	size, count := tail.size, len(tail.offs)
	l.mu.Unlock()
	if err != nil {
		return Pending{}, err
	}
	if err := validate(recs, next, term); err != nil {
		return Pending{}, err
	}
	b := batch{buf: l.buf[:0], start: size}
	for i := range recs {
		r := &recs[i]
		need := int64(RecordHeaderBytes + len(r.Data))
		if count+len(b.offs) > 0 && b.start+int64(len(b.buf))+need > l.segmentBytes {
			if _, err = l.flush(tail, &b); err != nil {
				return Pending{}, err
			}
			if tail, err = l.rollover(); err != nil {
				return Pending{}, err
			}
			b = batch{buf: b.buf[:0], start: tail.size}
			count = 0
		}
		hash = chainHash(hash, r)
		b.add(r, hash)
	}
	seq, err := l.flush(tail, &b)
	if err != nil {
		return Pending{}, err
	}
	if cap(b.buf) <= maxKeptBufferBytes {
		l.buf = b.buf[:0]
	}
	l.kickSpare()
	return Pending{l: l, seq: seq}, nil
}

// validate checks recs before anything is written: contiguous indexes from
// next, non-decreasing terms, bounded sizes.
func validate(recs []Record, next, term uint64) error {
	for i := range recs {
		r := &recs[i]
		if r.Index != next+uint64(i) {
			return fmt.Errorf("%w: record %d has index %d, want %d", ErrNotContiguous, i, r.Index, next+uint64(i))
		}
		if r.Term < term {
			return fmt.Errorf("%w: index %d term %d after term %d", ErrTermRegression, r.Index, r.Term, term)
		}
		if len(r.Data) > MaxDataBytes {
			return fmt.Errorf("%w: index %d has %d bytes, limit %d", ErrRecordTooLarge, r.Index, len(r.Data), MaxDataBytes)
		}
		term = r.Term
	}
	return nil
}

// batch is the encoded run of records destined for one segment.
type batch struct {
	buf   []byte
	start int64 // file offset where buf will be written
	offs  []int64
	terms []uint64
	last  Record // header fields of the last record (Data not kept)
	hash  [32]byte
}

func (b *batch) add(r *Record, hash [32]byte) {
	b.offs = append(b.offs, b.start+int64(len(b.buf)))
	b.terms = append(b.terms, r.Term)
	b.buf = appendRecord(b.buf, r, hash)
	b.last = Record{Index: r.Index, Term: r.Term}
	b.hash = hash
}

// check re-decodes the encoded bytes right before they are written, so a
// memory or encoder fault is caught before it reaches the disk.
func (b *batch) check() error {
	off := 0
	for i, o := range b.offs {
		if int64(off) != o-b.start {
			return fmt.Errorf("wal: encoded record %d at %d, expected %d", i, off, o-b.start)
		}
		rec, _, n, err := decodeRecord(b.buf[off:])
		if err != nil || rec.Term != b.terms[i] {
			return fmt.Errorf("wal: encoded record %d fails its own check: %v", i, err)
		}
		off += n
	}
	if off != len(b.buf) {
		return fmt.Errorf("wal: encoded batch has %d trailing bytes", len(b.buf)-off)
	}
	return nil
}

// flush writes the batch to the tail and publishes it in memory. Any failure
// poisons the log: the file may now hold a partial write.
func (l *Log) flush(tail *segment, b *batch) (uint64, error) {
	if len(b.offs) == 0 {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.writeSeq, nil
	}
	if err := b.check(); err != nil {
		panic(err) // broken invariant inside this process; never write it
	}
	n, err := tail.f.WriteAt(b.buf, b.start)
	if err == nil && n != len(b.buf) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(b.buf))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		return 0, l.setPoisonLocked(fmt.Errorf("wal: write %s: %w", tail.path, err))
	}
	tail.offs = append(tail.offs, b.offs...)
	tail.terms = append(tail.terms, b.terms...)
	tail.size = b.start + int64(len(b.buf))
	tail.fileSize = max(tail.fileSize, tail.size)
	l.lastIndex, l.lastTerm, l.lastHash = b.last.Index, b.last.Term, b.hash
	l.writeSeq++
	l.stats.Records += uint64(len(b.offs))
	l.stats.Bytes += uint64(len(b.buf))
	b.offs, b.terms = b.offs[:0], b.terms[:0]
	return l.writeSeq, nil
}

// rollover seals the tail (fdatasync, so no later segment can outlive the
// end of this one) and starts the next segment, from the spare when one is
// ready. Called with wmu held.
func (l *Log) rollover() (*segment, error) {
	l.mu.Lock()
	for l.syncing {
		l.cond.Wait()
	}
	if l.err == nil && l.syncedSeq < l.writeSeq {
		_ = l.syncRoundLocked()
	}
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return nil, err
	}
	old := l.tail()
	h := segmentHeader{Seq: old.seq + 1, First: l.lastIndex + 1, PrevTerm: l.lastTerm, PrevHash: l.lastHash}
	l.mu.Unlock()

	seg, err := l.newSegment(h)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		return nil, l.setPoisonLocked(err)
	}
	l.segs = append(l.segs, seg)
	return seg, nil
}

func (l *Log) finishWrite() {
	l.mu.Lock()
	l.finished++
	l.stats.Appends++
	l.cond.Broadcast()
	l.mu.Unlock()
}

// waitDurable blocks until write seq is covered by a successful fsync,
// running the fsync itself when no round is in progress.
func (l *Log) waitDurable(seq uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.syncedSeq >= seq {
			return nil
		}
		if l.err != nil {
			return l.err
		}
		if !l.syncing {
			// Let appenders that the previous round just released, and any
			// already writing, join this round: yield once, then wait for
			// those that entered before us.
			l.mu.Unlock()
			runtime.Gosched()
			l.mu.Lock()
			for want := l.entered; l.finished < want && !l.syncing && l.err == nil; {
				l.cond.Wait()
			}
			if !l.syncing && l.err == nil && l.syncedSeq < seq {
				_ = l.syncRoundLocked()
			}
			continue
		}
		l.cond.Wait()
	}
}
