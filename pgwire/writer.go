package pgwire

import (
	"encoding/binary"

	"github.com/chr2sql/chr2sql/pgval"
	"net"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// flushThresholdBytes bounds what a connection buffers before it writes:
// once the buffer passes it the writer blocks on the socket, so a client
// that stops reading stalls its own statement instead of growing memory.
const flushThresholdBytes = 32 << 10

// msgWriter buffers encoded backend messages for one connection. The first
// write error is sticky: later sends are dropped and flush reports it.
type msgWriter struct {
	nc           net.Conn
	buf          []byte
	err          error
	writeTimeout time.Duration
	stopping     *atomic.Bool // once set, Close's deadline must not be extended
	onBytes      func(int)
}

func (w *msgWriter) send(msg pgproto3.BackendMessage) {
	if w.err != nil {
		return
	}
	var err error
	w.buf, err = msg.Encode(w.buf)
	if err != nil {
		// Only oversized fields fail to encode; that is a bug in what we
		// built, not a client problem.
		w.err = err
		return
	}
	w.maybeFlush()
}

// maybeFlush writes once the buffer passes the threshold.
func (w *msgWriter) maybeFlush() {
	if len(w.buf) >= flushThresholdBytes {
		_ = w.flush()
	}
}

func (w *msgWriter) flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	if w.writeTimeout > 0 && (w.stopping == nil || !w.stopping.Load()) {
		_ = w.nc.SetWriteDeadline(time.Now().Add(w.writeTimeout))
	}
	n, err := w.nc.Write(w.buf)
	if w.onBytes != nil {
		w.onBytes(n)
	}
	if err != nil {
		w.err = err
	}
	if cap(w.buf) > 4*flushThresholdBytes {
		w.buf = make([]byte, 0, flushThresholdBytes) // drop a buffer one huge row grew
	} else {
		w.buf = w.buf[:0]
	}
	return w.err
}

// beginMessage starts a message in place and returns its offset for
// finishMessage; used for DataRow, the one hot message type.
func (w *msgWriter) beginMessage(typ byte) int {
	at := len(w.buf)
	w.buf = append(w.buf, typ, 0, 0, 0, 0)
	return at
}

func (w *msgWriter) finishMessage(at int) {
	binary.BigEndian.PutUint32(w.buf[at+1:], uint32(len(w.buf)-at-1)) //nolint:gosec // bounded by memory
}

// Hand-encoded hot messages: pgproto3's Encode needs a message value behind
// an interface, which costs an allocation per message.

func (w *msgWriter) commandComplete(tag string) {
	if w.err != nil {
		return
	}
	at := w.beginMessage('C')
	w.buf = append(w.buf, tag...)
	w.buf = append(w.buf, 0)
	w.finishMessage(at)
	w.maybeFlush()
}

func (w *msgWriter) readyForQuery(status byte) {
	if w.err != nil {
		return
	}
	w.buf = append(w.buf, 'Z', 0, 0, 0, 5, status)
}

// rowDescription writes RowDescription for cols with per-column formats
// (nil = all text). A zero TypeSize is filled from pgval's type table.
func (w *msgWriter) rowDescription(cols []Column, formats []int16) {
	if w.err != nil {
		return
	}
	at := w.beginMessage('T')
	w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(cols))) //nolint:gosec // bounded by the engine
	for i, col := range cols {
		size := col.TypeSize
		if size == 0 {
			if t, ok := pgval.Lookup(col.TypeOID); ok {
				size = t.Len
			}
		}
		f := formatText
		if formats != nil {
			f = formats[i]
		}
		w.buf = append(w.buf, col.Name...)
		w.buf = append(w.buf, 0)
		w.buf = binary.BigEndian.AppendUint32(w.buf, col.TableOID)
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(col.AttrNum)) //nolint:gosec // attnum is small
		w.buf = binary.BigEndian.AppendUint32(w.buf, col.TypeOID)
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(size))             //nolint:gosec // two's complement
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(col.TypeModifier)) //nolint:gosec // two's complement
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(f))                //nolint:gosec // 0 or 1
	}
	w.finishMessage(at)
	w.maybeFlush()
}
