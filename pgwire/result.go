package pgwire

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Format codes of the protocol.
const (
	formatText   int16 = 0
	formatBinary int16 = 1
)

// resultWriter is the ResultWriter of one Execute. It is reused across
// statements of a connection (reset per statement), so writing rows does
// not allocate per statement.
type resultWriter struct {
	c       *conn
	cols    []Column
	formats []int16 // per column; nil means all text
	copyIn  *copyInReader
	copyOut *copyOutWriter
}

var _ ResultWriter = (*resultWriter)(nil)

func (rw *resultWriter) reset(cols []Column, formats []int16) *resultWriter {
	rw.cols, rw.formats, rw.copyIn, rw.copyOut = cols, formats, nil, nil
	return rw
}

// WriteRow encodes one DataRow straight into the connection's buffer.
func (rw *resultWriter) WriteRow(values []any) error {
	w := &rw.c.w
	if w.err != nil {
		return w.err
	}
	if len(values) != len(rw.cols) {
		return fmt.Errorf("pgwire: row has %d values for %d columns", len(values), len(rw.cols))
	}
	at := w.beginMessage('D')
	w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(values))) //nolint:gosec // ≤ columns
	for i, v := range values {
		if v == nil {
			w.buf = binary.BigEndian.AppendUint32(w.buf, 0xFFFFFFFF)
			continue
		}
		lenAt := len(w.buf)
		w.buf = append(w.buf, 0, 0, 0, 0)
		var err error
		oid := rw.cols[i].TypeOID
		if rw.formats != nil && rw.formats[i] == formatBinary {
			w.buf, err = pgval.AppendBinary(w.buf, oid, v)
		} else {
			w.buf, err = pgval.AppendText(w.buf, oid, v, rw.c.loc)
		}
		if err != nil {
			w.buf = w.buf[:at] // drop the half-built row
			return fmt.Errorf("pgwire: column %q: %w", rw.cols[i].Name, err)
		}
		binary.BigEndian.PutUint32(w.buf[lenAt:], uint32(len(w.buf)-lenAt-4)) //nolint:gosec // bounded
	}
	w.finishMessage(at)
	w.maybeFlush()
	return w.err
}

// Notice sends a NoticeResponse right away (buffered with the results).
func (rw *resultWriter) Notice(n *pgerr.Error) {
	if n != nil {
		rw.c.sendNotice(n)
	}
}

// CopyIn starts COPY FROM STDIN (see copy.go).
func (rw *resultWriter) CopyIn(format int16, columnFormats []int16) (io.Reader, error) {
	if rw.copyIn != nil || rw.copyOut != nil {
		return nil, pgerr.New(pgerr.ProtocolViolation, "COPY already in progress")
	}
	rw.c.w.send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: toUint16(columnFormats)})
	if err := rw.c.w.flush(); err != nil {
		return nil, err
	}
	rw.copyIn = &copyInReader{c: rw.c}
	return rw.copyIn, nil
}

// CopyOut starts COPY TO STDOUT (see copy.go).
func (rw *resultWriter) CopyOut(format int16, columnFormats []int16) (io.WriteCloser, error) {
	if rw.copyIn != nil || rw.copyOut != nil {
		return nil, pgerr.New(pgerr.ProtocolViolation, "COPY already in progress")
	}
	rw.c.w.send(&pgproto3.CopyOutResponse{OverallFormat: byte(format), ColumnFormatCodes: toUint16(columnFormats)})
	rw.copyOut = &copyOutWriter{c: rw.c}
	return rw.copyOut, rw.c.w.err
}

// finish completes a COPY the engine left open once Execute returned
// successfully: the rest of the client's data is read and dropped, and a
// CopyOut gets its CopyDone.
func (rw *resultWriter) finish() error {
	if rw.copyIn != nil && !rw.copyIn.done {
		if err := rw.copyIn.drain(); err != nil {
			return err
		}
	}
	if rw.copyOut != nil {
		return rw.copyOut.Close()
	}
	return nil
}

func toUint16(codes []int16) []uint16 {
	out := make([]uint16, len(codes))
	for i, c := range codes {
		out[i] = uint16(c) //nolint:gosec // format codes are 0 or 1
	}
	return out
}
