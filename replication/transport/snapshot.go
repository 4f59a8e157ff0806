package transport

import (
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"net"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

const (
	maxSnapshotChunkBytes = 1 << 20
	snapshotProgressEvery = 5 * time.Second
)

// runSnapshotSend streams one MsgSnap and its file and returns the outcome
// for Handler.ReportSnapshot.
func (t *Transport) runSnapshotSend(m raftpb.Message, addr string) raft.SnapshotStatus {
	log := t.log.With(zap.Uint64("peer", m.To))
	if m.Snapshot != nil {
		log = log.With(zap.Uint64("snap_index", m.Snapshot.Metadata.Index), zap.Uint64("snap_term", m.Snapshot.Metadata.Term))
	}
	start := time.Now()
	size, err := t.sendSnapshot(m, addr, log)
	t.metrics.snapshot(m.To, "sent", err == nil)
	if err != nil {
		if t.ctx.Err() == nil {
			log.Warn("snapshot stream failed", zap.Error(err))
		}
		return raft.SnapshotFailure
	}
	log.Info("snapshot delivered", zap.Int64("bytes", size), zap.Duration("took", time.Since(start)))
	return raft.SnapshotFinish
}

// sendSnapshot performs the sender side of the snapshot stream:
//  1. open the file from the SnapshotStore (before dialing, so a missing
//     file costs no connection);
//  2. dial a dedicated connection and handshake as a snapshot stream;
//  3. send the MsgSnap frame, SnapBegin(size), chunks, SnapEnd(crc32c);
//  4. wait for the receiver's ack, sent only after its store returned and its
//     raft node accepted the MsgSnap.
func (t *Transport) sendSnapshot(m raftpb.Message, addr string, log *zap.Logger) (int64, error) {
	if m.Snapshot == nil {
		return 0, fmt.Errorf("%w: MsgSnap without a snapshot", ErrSnapshot)
	}
	if t.cfg.Snapshots == nil {
		return 0, fmt.Errorf("%w: no snapshot store configured", ErrSnapshot)
	}
	payload, err := m.Marshal()
	if err != nil {
		return 0, fmt.Errorf("%w: marshal: %v", ErrSnapshot, err)
	}
	if len(payload) > t.cfg.MaxFrameBytes {
		return 0, fmt.Errorf("%w: MsgSnap of %d bytes exceeds MaxFrameBytes", ErrSnapshot, len(payload))
	}
	rc, size, err := t.cfg.Snapshots.OpenSnapshot(m.Snapshot.Data)
	if err != nil {
		return 0, fmt.Errorf("%w: open: %v", ErrSnapshot, err)
	}
	defer func() { _ = rc.Close() }()
	if size < 0 {
		return 0, fmt.Errorf("%w: store reported negative size %d", ErrSnapshot, size)
	}
	conn, fr, err := t.dialPeer(t.ctx, m.To, addr, streamSnapshot)
	if err != nil {
		return 0, err
	}
	if !t.trackConn(conn) {
		return 0, ErrClosed
	}
	defer t.untrackConn(conn)
	bytesSent := t.metrics.bytesSent.WithLabelValues(peerLabel(m.To))
	w := &deadlineWriter{conn: conn, timeout: t.cfg.SnapshotTimeout}
	if err := writeFrame(w, frameMsg, payload); err != nil {
		return 0, err
	}
	if err := writeFrame(w, frameSnapBegin, encodeU64(uint64(size))); err != nil {
		return 0, err
	}
	sum, err := t.streamChunks(w, rc, size, log)
	if err != nil {
		return 0, err
	}
	if err := writeFrame(w, frameSnapEnd, encodeU32(sum)); err != nil {
		return 0, err
	}
	bytesSent.Add(float64(w.n))
	return size, t.awaitSnapshotAck(conn, fr)
}

// streamChunks copies exactly size bytes from rc as chunk frames and returns
// their CRC32C. A file shorter or longer than advertised is an error: the
// receiver must never store a snapshot of the wrong length.
func (t *Transport) streamChunks(w io.Writer, rc io.Reader, size int64, log *zap.Logger) (uint32, error) {
	chunk := min(maxSnapshotChunkBytes, t.cfg.MaxFrameBytes)
	buf := make([]byte, frameHeaderLen+chunk)
	var sum uint32
	var sent int64
	lastLog := time.Now()
	for sent < size {
		n := int(min(int64(chunk), size-sent))
		data := buf[frameHeaderLen : frameHeaderLen+n]
		if _, err := io.ReadFull(rc, data); err != nil {
			return 0, fmt.Errorf("%w: file shorter than its advertised %d bytes: %v", ErrSnapshot, size, err)
		}
		sum = crc32.Update(sum, castagnoli, data)
		putFrameHeader(buf, frameSnapChunk, data)
		if _, err := w.Write(buf[:frameHeaderLen+n]); err != nil {
			return 0, err
		}
		sent += int64(n)
		if time.Since(lastLog) >= snapshotProgressEvery {
			log.Info("snapshot stream progress", zap.Int64("sent_bytes", sent), zap.Int64("total_bytes", size))
			lastLog = time.Now()
		}
	}
	var extra [1]byte
	if n, _ := rc.Read(extra[:]); n > 0 {
		return 0, fmt.Errorf("%w: file longer than its advertised %d bytes", ErrSnapshot, size)
	}
	return sum, nil
}

func (t *Transport) awaitSnapshotAck(conn net.Conn, fr *frameReader) error {
	_ = conn.SetReadDeadline(time.Now().Add(t.cfg.SnapshotTimeout))
	typ, payload, err := fr.next(maxControlFrameBytes)
	if err != nil {
		return fmt.Errorf("%w: waiting for ack: %v", ErrSnapshot, err)
	}
	if typ != frameSnapAck {
		return fmt.Errorf("%w: type %d instead of snapshot ack", ErrBadFrame, typ)
	}
	status, reason, err := decodeCodeText(payload)
	if err != nil {
		return err
	}
	if status != snapAckOK {
		return fmt.Errorf("%w: receiver: %s", ErrSnapshot, reason)
	}
	return nil
}

// deadlineWriter refreshes the write deadline before every write, so the
// limit applies to progress, not to the whole (possibly huge) transfer.
type deadlineWriter struct {
	conn    net.Conn
	timeout time.Duration
	n       int64
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	n, err := w.conn.Write(p)
	w.n += int64(n)
	return n, err
}

// serveSnapshot performs the receiver side:
//  1. read the MsgSnap frame and SnapBegin(size);
//  2. call SnapshotStore.ReceiveSnapshot with a reader that yields exactly
//     size bytes and verifies SnapEnd's checksum before yielding the last one;
//  3. only if the store returned nil and consumed the whole stream, hand the
//     MsgSnap to Handler.Process;
//  4. answer with an ack frame carrying the outcome.
func (t *Transport) serveSnapshot(c net.Conn, fr *frameReader, from uint64, log *zap.Logger) error {
	_ = c.SetReadDeadline(time.Now().Add(t.cfg.SnapshotTimeout))
	m, size, err := t.readSnapshotHeader(fr, from)
	if err != nil {
		return err
	}
	log = log.With(zap.Uint64("snap_index", m.Snapshot.Metadata.Index), zap.Uint64("bytes", size))
	log.Info("receiving snapshot")
	r := &snapReader{fr: fr, conn: c, timeout: t.cfg.SnapshotTimeout, remaining: size}
	if size == 0 {
		err = r.readEnd()
	}
	if err == nil {
		err = t.cfg.Snapshots.ReceiveSnapshot(m.Snapshot.Data, r, int64(size))
	}
	if err == nil && !r.verified {
		err = fmt.Errorf("%w: store returned before consuming the stream", ErrSnapshot)
	}
	if err == nil {
		err = t.handler.Process(t.ctx, m)
	}
	t.metrics.bytesRecv.WithLabelValues(peerLabel(from)).Add(float64(r.n))
	t.metrics.snapshot(from, "received", err == nil)
	ack := encodeCodeText(snapAckOK, "")
	if err != nil {
		log.Warn("snapshot not accepted", zap.Error(err))
		ack = encodeCodeText(snapAckFail, err.Error())
	} else {
		log.Info("snapshot received and handed to raft")
	}
	_ = c.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
	if werr := writeFrame(c, frameSnapAck, ack); werr != nil && err == nil {
		return werr
	}
	return nil
}

func (t *Transport) readSnapshotHeader(fr *frameReader, from uint64) (raftpb.Message, uint64, error) {
	typ, payload, err := fr.next(0)
	if err != nil {
		return raftpb.Message{}, 0, err
	}
	if typ != frameMsg {
		return raftpb.Message{}, 0, fmt.Errorf("%w: type %d instead of MsgSnap", ErrBadFrame, typ)
	}
	m, err := t.decodeMsg(payload, from)
	if err != nil {
		return m, 0, err
	}
	if m.Type != raftpb.MsgSnap || m.Snapshot == nil {
		return m, 0, fmt.Errorf("%w: %v without snapshot on a snapshot stream", ErrBadFrame, m.Type)
	}
	typ, payload, err = fr.next(maxControlFrameBytes)
	if err != nil {
		return m, 0, err
	}
	if typ != frameSnapBegin {
		return m, 0, fmt.Errorf("%w: type %d instead of snapshot begin", ErrBadFrame, typ)
	}
	size, err := decodeU64(payload)
	if err == nil && size > math.MaxInt64 {
		err = fmt.Errorf("%w: snapshot size %d", ErrBadFrame, size)
	}
	return m, size, err
}

// snapReader yields the chunk payloads of a snapshot stream. It verifies the
// SnapEnd checksum before returning the final bytes, so a store that reads
// exactly size bytes has seen only verified data when its last Read returns.
type snapReader struct {
	fr        *frameReader
	conn      net.Conn
	timeout   time.Duration
	remaining uint64
	sum       uint32
	cur       []byte
	last      []byte // copy of the final chunk, kept while SnapEnd is read
	verified  bool
	err       error
	n         int64 // frame bytes read, for metrics
}

var errSnapshotChecksum = fmt.Errorf("%w: checksum mismatch", ErrSnapshot)

func (r *snapReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(r.cur) == 0 {
		if r.remaining == 0 {
			return 0, io.EOF
		}
		if err := r.readChunk(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

func (r *snapReader) readChunk() error {
	_ = r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	typ, payload, err := r.fr.next(0)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	r.n += int64(frameHeaderLen + len(payload))
	if typ != frameSnapChunk || len(payload) == 0 || uint64(len(payload)) > r.remaining {
		return fmt.Errorf("%w: type %d with %d bytes, %d remaining", ErrBadFrame, typ, len(payload), r.remaining)
	}
	r.sum = crc32.Update(r.sum, castagnoli, payload)
	r.remaining -= uint64(len(payload))
	r.cur = payload
	if r.remaining == 0 {
		// payload aliases the frame buffer, which reading SnapEnd reuses.
		r.last = append(r.last[:0], payload...)
		r.cur = r.last
		return r.readEnd()
	}
	return nil
}

func (r *snapReader) readEnd() error {
	_ = r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	typ, payload, err := r.fr.next(maxControlFrameBytes)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	r.n += int64(frameHeaderLen + len(payload))
	if typ != frameSnapEnd {
		return fmt.Errorf("%w: type %d instead of snapshot end", ErrBadFrame, typ)
	}
	want, err := decodeU32(payload)
	if err != nil {
		return err
	}
	if want != r.sum {
		return errSnapshotChecksum
	}
	r.verified = true
	return nil
}
