package pgwire

import (
	"errors"
	"io"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/jackc/pgx/v5/pgproto3"
)

// maxCopyDataBytes splits what the engine writes in one CopyOut Write into
// messages of bounded size.
const maxCopyDataBytes = 64 << 10

// copyInReader yields the payloads of the client's CopyData messages.
// CopyDone ends the stream with io.EOF; CopyFail with 57014; Flush and Sync
// are ignored during COPY, as the protocol says; any other message aborts
// the COPY with 08P01. A broken connection makes the connection close after
// the statement.
type copyInReader struct {
	c       *conn
	pending []byte // rest of the current CopyData (aliases the frame buffer)
	done    bool
	err     error
}

func (r *copyInReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.nextMessage()
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *copyInReader) nextMessage() {
	typ, body, err := r.c.fr.next()
	if err != nil {
		var fe *frameError
		if errors.As(err, &fe) {
			r.c.closing = fe.pe
		} else {
			r.c.lost = true
		}
		r.err = pgerr.Wrap(err, pgerr.ConnectionFailure, "connection lost during COPY")
		return
	}
	r.c.srv.m.messageByType[typ].Inc()
	switch typ {
	case 'd':
		r.pending = body
	case 'c':
		r.done = true
	case 'f':
		var cf pgproto3.CopyFail
		msg := ""
		if cf.Decode(body) == nil {
			msg = cf.Message
		}
		r.err = pgerr.New(pgerr.QueryCanceled, "COPY from stdin failed: %s", msg)
	case 'H', 'S':
	default:
		r.err = pgerr.New(pgerr.ProtocolViolation, "unexpected message type 0x%02X during COPY from stdin", typ)
	}
}

// drain consumes the client's remaining COPY data after the engine
// finished early, without buffering it.
func (r *copyInReader) drain() error {
	for !r.done && r.err == nil {
		r.pending = nil
		r.nextMessage()
	}
	return r.err
}

// copyOutWriter sends each Write as CopyData and Close as CopyDone.
type copyOutWriter struct {
	c      *conn
	closed bool
}

func (w *copyOutWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, io.ErrClosedPipe
	}
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxCopyDataBytes)]
		w.c.w.send(&pgproto3.CopyData{Data: chunk})
		if w.c.w.err != nil {
			return written, w.c.w.err
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	return written, nil
}

func (w *copyOutWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.c.w.send(&pgproto3.CopyDone{})
	return w.c.w.err
}
