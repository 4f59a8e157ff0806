package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/chr2sql/chr2sql/vfs"
)

// scannedSegment is what recovery learned about one retained segment.
type scannedSegment struct {
	path     string
	hdr      segmentHeader
	size     int64    // end of the last valid record (the torn tail excluded)
	fileSize int64    // bytes in the file
	offs     []int64  // start offset of every record
	terms    []uint64 // term of every record
	lastTerm uint64   // term of the last record (hdr.PrevTerm when empty)
	lastHash [32]byte // chain hash of the last record (hdr.PrevHash when empty)
}

func (s *scannedSegment) next() uint64 { return s.hdr.First + uint64(len(s.offs)) }

// tornTail describes an incomplete last record in the last segment. In a
// version-1 segment the repair truncates the file at offset; in a version-2
// (preallocated) one it overwrites offset..zeroTo with zeros, so the file
// keeps its preallocated blocks.
type tornTail struct {
	path   string
	offset int64
	index  uint64
	zeroTo int64 // version 2: end of the non-zero bytes to clear; 0: truncate
	drop   int64 // bytes the repair discards (truncated or non-zero cleared)
	reason string
}

// scanResult is the decision recovery reached for a directory. Exactly one
// of corrupt and "recoverable" holds: when corrupt is set nothing else may be
// acted upon.
type scanResult struct {
	segs     []*scannedSegment
	obsolete []string // segments superseded by a later base segment (interrupted Reset)
	tmps     []string // leftover temporary files (interrupted segment or spare creation)
	spare    string   // a prepared spare file (not part of the log), or ""
	unknown  []string // other names, left alone
	torn     *tornTail
	corrupt  *CorruptError
}

// recordFunc observes each verified record in log order (Dump uses it).
type recordFunc func(rec Record, hash [32]byte)

// scanDir runs the recovery decision table over dir without modifying
// anything. It returns an error only when files cannot be read; corruption
// is reported in scanResult.corrupt.
func scanDir(fsys vfs.FS, dir string, onRecord recordFunc) (*scanResult, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	res := &scanResult{}
	var segNames []string
	for _, name := range names {
		switch {
		case strings.HasSuffix(name, segmentSuffix+tmpSuffix), name == spareName+tmpSuffix:
			res.tmps = append(res.tmps, filepath.Join(dir, name))
		case name == spareName:
			res.spare = filepath.Join(dir, name)
		case strings.HasSuffix(name, segmentSuffix):
			if _, _, ok := parseSegmentName(name); !ok {
				res.corrupt = &CorruptError{File: filepath.Join(dir, name), Reason: "file name is not a valid segment name"}
				return res, nil
			}
			segNames = append(segNames, name)
		default:
			res.unknown = append(res.unknown, filepath.Join(dir, name))
		}
	}
	hdrs, start, cerr, err := retainedHeaders(fsys, dir, segNames)
	if err != nil || cerr != nil {
		res.corrupt = cerr
		return res, err
	}
	for _, name := range segNames[:start] {
		res.obsolete = append(res.obsolete, filepath.Join(dir, name))
	}
	return res, scanSegments(fsys, dir, segNames[start:], hdrs[start:], res, onRecord)
}

// retainedHeaders reads segment headers from the newest backwards until it
// meets a base segment; everything before that base is obsolete. It returns
// the headers (indexed like names) and the position of the first retained one.
func retainedHeaders(fsys vfs.FS, dir string, names []string) ([]segmentHeader, int, *CorruptError, error) {
	hdrs := make([]segmentHeader, len(names))
	start := 0
	for i := len(names) - 1; i >= 0; i-- {
		path := filepath.Join(dir, names[i])
		seq, first, _ := parseSegmentName(names[i])
		if i+1 < len(names) && seq == hdrs[i+1].Seq {
			return nil, 0, &CorruptError{File: path, Index: first, Reason: "two segments share a sequence number"}, nil
		}
		b, err := readHeader(fsys, path)
		if err != nil {
			return nil, 0, nil, err
		}
		h, herr := decodeSegmentHeader(b)
		if herr != nil {
			return nil, 0, &CorruptError{File: path, Index: first, Reason: herr.Error()}, nil
		}
		if h.Seq != seq || h.First != first {
			return nil, 0, &CorruptError{File: path, Index: first, Reason: fmt.Sprintf(
				"segment header (seq %d, first index %d) disagrees with its file name", h.Seq, h.First)}, nil
		}
		if h.First == 0 {
			return nil, 0, &CorruptError{File: path, Reason: "segment first index is 0"}, nil
		}
		hdrs[i] = h
		if h.Flags&flagBase != 0 {
			start = i
			break
		}
	}
	return hdrs, start, nil, nil
}

func readHeader(fsys vfs.FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, SegmentHeaderBytes)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:n], nil
}

// scanSegments verifies the retained segments in order: header continuity,
// then every record.
func scanSegments(fsys vfs.FS, dir string, names []string, hdrs []segmentHeader, res *scanResult, onRecord recordFunc) error {
	for i, name := range names {
		path := filepath.Join(dir, name)
		h := hdrs[i]
		prevTerm, prevHash := h.PrevTerm, h.PrevHash
		if i > 0 {
			p := res.segs[i-1]
			if reason := continuity(p, h); reason != "" {
				res.corrupt = &CorruptError{File: path, Index: p.next(), Reason: reason}
				return nil
			}
		}
		b, err := fsys.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				res.corrupt = &CorruptError{File: path, Index: h.First, Reason: "segment vanished during the scan"}
				return nil
			}
			return err
		}
		seg, torn, cerr := scanRecords(path, b, h, prevTerm, prevHash, i == len(names)-1, onRecord)
		if cerr != nil {
			res.corrupt = cerr
			return nil
		}
		res.segs = append(res.segs, seg)
		res.torn = torn
	}
	return nil
}

// continuity checks that header h continues segment p exactly.
func continuity(p *scannedSegment, h segmentHeader) string {
	switch {
	case h.Seq != p.hdr.Seq+1:
		return fmt.Sprintf("missing segment: sequence jumps from %d to %d", p.hdr.Seq, h.Seq)
	case h.First != p.next():
		return fmt.Sprintf("index gap between segments: previous ends at %d, this starts at %d", p.next()-1, h.First)
	case h.PrevTerm != p.lastTerm:
		return fmt.Sprintf("segment header previous term %d, previous segment ends with term %d", h.PrevTerm, p.lastTerm)
	case h.PrevHash != p.lastHash:
		return "broken chain: segment header previous hash differs from the previous segment's last record"
	}
	return ""
}

// scanRecords verifies the records of one segment. A decoding failure in the
// last segment is a torn tail only when no plausible record follows it. In a
// preallocated (version 2) segment the records end cleanly where only zeros
// remain to the end of the file.
func scanRecords(path string, b []byte, h segmentHeader, term uint64, hash [32]byte, last bool, onRecord recordFunc) (*scannedSegment, *tornTail, *CorruptError) {
	seg := &scannedSegment{path: path, hdr: h, fileSize: int64(len(b))}
	off := int64(SegmentHeaderBytes)
	idx := h.First
	end := int64(len(b)) // records must cover everything before end
	if h.Version == segmentVersion2 {
		end = zeroTailStart(b, off)
	}
	for off < end {
		rec, stored, n, err := decodeRecord(b[off:])
		corrupt := func(reason string) (*scannedSegment, *tornTail, *CorruptError) {
			return nil, nil, &CorruptError{File: path, Offset: off, Index: idx, Reason: reason}
		}
		if errors.Is(err, errReserved) {
			return corrupt(err.Error())
		}
		if err != nil {
			if !last {
				return corrupt(err.Error() + " in a sealed (non-last) segment")
			}
			if p := nextPlausible(b, off+1); p >= 0 {
				return corrupt(fmt.Sprintf("%v, followed by a valid record at offset %d", err, p))
			}
			seg.finish(off, term, hash)
			t := &tornTail{path: path, offset: off, index: idx, drop: int64(len(b)) - off, reason: err.Error()}
			if h.Version == segmentVersion2 {
				t.zeroTo, t.drop = end, end-off
			}
			return seg, t, nil
		}
		switch {
		case rec.Index != idx:
			return corrupt(fmt.Sprintf("index gap: record has index %d", rec.Index))
		case rec.Term < term:
			return corrupt(fmt.Sprintf("term regression: record term %d below previous term %d", rec.Term, term))
		case chainHash(hash, &rec) != stored:
			return corrupt("broken chain: record hash does not match its predecessor and contents")
		}
		if onRecord != nil {
			onRecord(rec, stored)
		}
		seg.offs = append(seg.offs, off)
		seg.terms = append(seg.terms, rec.Term)
		term, hash = rec.Term, stored
		off += int64(n)
		idx++
	}
	seg.finish(off, term, hash)
	return seg, nil, nil
}

func (s *scannedSegment) finish(size int64, term uint64, hash [32]byte) {
	s.size, s.lastTerm, s.lastHash = size, term, hash
}

// nextPlausible returns the first offset >= from at which a complete record
// with a valid CRC starts, or -1. Runs of zero bytes are skipped quickly
// because an all-zero header is never valid.
func nextPlausible(b []byte, from int64) int64 {
	for p := from; p+RecordHeaderBytes <= int64(len(b)); p++ {
		if b[p] == 0 {
			q := nextNonZero(b, p)
			// A header starting in [p, q-RecordHeaderBytes] would be all zero.
			if skip := q - RecordHeaderBytes; skip > p {
				p = skip
			}
		}
		if plausibleAt(b[p:]) {
			return p
		}
	}
	return -1
}

// nextNonZero returns the offset of the first non-zero byte at or after p
// (len(b) if none), skipping zero runs a block at a time: the zero tail of a
// preallocated segment is tens of MiB.
func nextNonZero(b []byte, p int64) int64 {
	n := int64(len(b))
	for p+int64(len(zeroBlock)) <= n && isZero(b[p:p+int64(len(zeroBlock))]) {
		p += int64(len(zeroBlock))
	}
	for p < n && b[p] == 0 {
		p++
	}
	return p
}
