package wal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/chr2sql/chr2sql/vfs"
)

// Status is the outcome of Verify.
type Status int

// Verify outcomes.
const (
	// Intact: every segment and record verifies; Open would change nothing.
	Intact Status = iota
	// TornTail: the log verifies up to a torn last record, or leftovers of an
	// interrupted operation (a temporary segment, segments superseded by an
	// interrupted Reset) exist. Open repairs it without losing any record
	// that was ever acknowledged.
	TornTail
	// Corrupt: committed data fails verification; Open refuses the log.
	Corrupt
)

func (s Status) String() string {
	switch s {
	case Intact:
		return "intact"
	case TornTail:
		return "torn tail"
	case Corrupt:
		return "corrupt"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Report describes a verified log. For TornTail and Corrupt, File, Offset and
// Index locate the problem and Err explains it (a *CorruptError for
// Corrupt). FirstIndex and LastIndex describe the records that verify (for
// TornTail: what Open will keep).
type Report struct {
	Status     Status
	File       string
	Offset     int64
	Index      uint64
	FirstIndex uint64
	LastIndex  uint64
	Records    int
	Segments   int
	Err        error
}

// ExitCode maps the status to the exit code of `chr2sql wal verify`:
// 0 intact, 2 torn tail (recoverable), 1 corruption.
func (r Report) ExitCode() int {
	switch r.Status {
	case Intact:
		return 0
	case TornTail:
		return 2
	default:
		return 1
	}
}

// String is a one-line human summary.
func (r Report) String() string {
	s := fmt.Sprintf("%s: first index %d, last index %d, %d records in %d segments",
		r.Status, r.FirstIndex, r.LastIndex, r.Records, r.Segments)
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

// Verify checks the log in dir exactly as Open's recovery would, without
// modifying anything. The error is non-nil only when the files could not be
// read at all; corruption is reported in the Report.
func Verify(fsys vfs.FS, dir string) (Report, error) {
	res, err := scanDir(fsys, filepath.Clean(dir), nil)
	if err != nil {
		return Report{}, fmt.Errorf("wal: verify %s: %w", dir, err)
	}
	return report(res), nil
}

func report(res *scanResult) Report {
	var r Report
	if c := res.corrupt; c != nil {
		r = Report{Status: Corrupt, File: c.File, Offset: c.Offset, Index: c.Index, Err: c}
	}
	r.Segments = len(res.segs)
	if len(res.segs) > 0 {
		r.FirstIndex = res.segs[0].hdr.First
		r.LastIndex = res.segs[len(res.segs)-1].next() - 1
		for _, s := range res.segs {
			r.Records += len(s.offs)
		}
	}
	if r.Status == Corrupt {
		return r
	}
	switch t := res.torn; {
	case t != nil:
		r.Status, r.File, r.Offset, r.Index = TornTail, t.path, t.offset, t.index
		r.Err = fmt.Errorf("torn tail: %s (%d bytes after the last valid record)", t.reason, t.drop)
	case len(res.tmps) > 0:
		r.Status, r.File = TornTail, res.tmps[0]
		r.Err = errors.New("leftover temporary file from an interrupted segment or spare creation")
	case len(res.obsolete) > 0:
		r.Status, r.File = TornTail, res.obsolete[0]
		r.Err = errors.New("segments superseded by an interrupted reset")
	}
	return r
}

// Dump writes one line per verified record, in log order:
//
//	<index> <term> <type> <blocktime> <data length> <first 8 bytes of the chain hash, hex>
//
// It stops at a torn tail (returning nil) or at corruption (returning the
// *CorruptError after the records before it). It never modifies files.
func Dump(fsys vfs.FS, dir string, w io.Writer) error {
	bw := bufio.NewWriter(w)
	res, err := scanDir(fsys, filepath.Clean(dir), func(rec Record, hash [32]byte) {
		fmt.Fprintf(bw, "%d %d %d %d %d %x\n", rec.Index, rec.Term, rec.Type, rec.BlockTime, len(rec.Data), hash[:8])
	})
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("wal: dump %s: %w", dir, err)
	}
	if res.corrupt != nil {
		return res.corrupt
	}
	return nil
}
