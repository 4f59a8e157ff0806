package transport

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

func (t *Transport) acceptLoop() {
	backoff := minAcceptBackoff
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Resource exhaustion (EMFILE and the like): back off instead of
			// spinning, and keep serving the connections we have.
			t.log.Warn("raft accept failed", zap.Error(err), zap.Duration("retry_in", backoff))
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxAcceptBackoff)
			continue
		}
		backoff = minAcceptBackoff
		if !t.trackConn(c) {
			return
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer t.untrackConn(c)
			t.serveConn(c)
		}()
	}
}

// serveConn runs one inbound connection: handshake, then a raft stream or a
// snapshot stream. Any protocol error closes this connection only.
func (t *Transport) serveConn(c net.Conn) {
	configureConn(c)
	log := t.log.With(zap.Stringer("remote", c.RemoteAddr()))
	fr := newFrameReader(c, t.cfg.MaxFrameBytes)
	h, err := t.acceptHello(c, fr)
	if err != nil {
		if t.ctx.Err() == nil {
			log.Warn("refused inbound raft connection", zap.Error(err))
		}
		return
	}
	log = log.With(zap.Uint64("peer", h.NodeID))
	switch h.Kind {
	case streamRaft:
		t.replaceInboundRaft(h.NodeID, c)
		err = t.serveRaftStream(fr, h.NodeID)
		t.dropInboundRaft(h.NodeID, c)
	case streamSnapshot:
		err = t.serveSnapshot(c, fr, h.NodeID, log)
	}
	if err != nil && t.ctx.Err() == nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		log.Warn("closing inbound raft connection", zap.Error(err))
	}
}

// acceptHello reads and validates the dialer's hello and answers with ours or
// with a reject frame naming the reason.
func (t *Transport) acceptHello(c net.Conn, fr *frameReader) (hello, error) {
	_ = c.SetDeadline(time.Now().Add(t.cfg.WriteTimeout))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	typ, payload, err := fr.next(maxControlFrameBytes)
	if err != nil {
		return hello{}, err
	}
	if typ != frameHello {
		return hello{}, fmt.Errorf("%w: type %d before handshake", ErrBadFrame, typ)
	}
	h, err := decodeHello(payload)
	code, reason := byte(0), ""
	switch {
	case err != nil:
		code, reason = rejectBadHello, err.Error()
	case h.Version != protocolVersion:
		code, reason = rejectVersion, fmt.Sprintf("unsupported protocol version %d, want %d", h.Version, protocolVersion)
	case h.ClusterID != t.cfg.ClusterID:
		code, reason = rejectClusterID, fmt.Sprintf("cluster id %d does not match %d", h.ClusterID, t.cfg.ClusterID)
	case h.NodeID == 0 || h.NodeID == t.cfg.NodeID:
		code, reason = rejectNodeID, fmt.Sprintf("invalid sender node id %d", h.NodeID)
	case h.Kind != streamRaft && h.Kind != streamSnapshot:
		code, reason = rejectBadHello, fmt.Sprintf("unknown stream kind %d", h.Kind)
	case h.Kind == streamSnapshot && t.cfg.Snapshots == nil:
		code, reason = rejectNoSnapshotFlow, "no snapshot store configured"
	}
	if code != 0 {
		_ = writeFrame(c, frameReject, encodeCodeText(code, reason))
		return hello{}, fmt.Errorf("%w: %s", ErrRejected, reason)
	}
	if err := writeFrame(c, frameHello, t.localHello(streamReply)); err != nil {
		return hello{}, err
	}
	t.setPeerMeta(h.NodeID, h.Meta)
	return h, nil
}

// serveRaftStream delivers messages until the stream ends or misbehaves.
func (t *Transport) serveRaftStream(fr *frameReader, from uint64) error {
	l := peerLabel(from)
	recvMsgs, recvBytes := t.metrics.msgsRecv.WithLabelValues(l), t.metrics.bytesRecv.WithLabelValues(l)
	h := t.handler
	for {
		typ, payload, err := fr.next(0)
		if err != nil {
			return err
		}
		if typ != frameMsg {
			return fmt.Errorf("%w: type %d on a raft stream", ErrBadFrame, typ)
		}
		m, err := t.decodeMsg(payload, from)
		if err != nil {
			return err
		}
		if m.Type == raftpb.MsgSnap {
			return fmt.Errorf("%w: MsgSnap outside a snapshot stream", ErrBadFrame)
		}
		recvMsgs.Inc()
		recvBytes.Add(float64(frameHeaderLen + len(payload)))
		if err := h.Process(t.ctx, m); err != nil {
			if t.ctx.Err() != nil {
				return nil
			}
			t.log.Debug("raft node refused message", zap.Uint64("peer", from), zap.Stringer("type", m.Type), zap.Error(err))
		}
	}
}

// decodeMsg unmarshals a message and checks it is addressed from the
// handshaked sender to us; a mismatch means misrouted or forged traffic.
func (t *Transport) decodeMsg(payload []byte, from uint64) (raftpb.Message, error) {
	var m raftpb.Message
	if err := m.Unmarshal(payload); err != nil {
		return m, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	if m.From != from || m.To != t.cfg.NodeID {
		return m, fmt.Errorf("%w: message %d→%d on stream from %d to %d", ErrBadFrame, m.From, m.To, from, t.cfg.NodeID)
	}
	return m, nil
}
