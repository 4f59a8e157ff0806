package transport

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// rawDial opens a plain TCP connection to tr for hand-crafted traffic.
func rawDial(t *testing.T, tr *Transport) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", tr.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	return c
}

func helloBytes(t *testing.T, kind byte, cluster, node uint64) []byte {
	t.Helper()
	b, err := encodeHello(hello{Version: protocolVersion, Kind: kind, ClusterID: cluster, NodeID: node})
	if err != nil {
		t.Fatal(err)
	}
	return appendFrame(nil, frameHello, b)
}

// rawHandshake performs a valid raft-stream handshake as node `from`.
func rawHandshake(t *testing.T, c net.Conn, kind byte, from uint64) *frameReader {
	t.Helper()
	if _, err := c.Write(helloBytes(t, kind, 7, from)); err != nil {
		t.Fatal(err)
	}
	fr := newFrameReader(c, DefaultMaxFrameBytes)
	typ, payload, err := fr.next(maxControlFrameBytes)
	if err != nil || typ != frameHello {
		t.Fatalf("handshake reply: type %d err %v", typ, err)
	}
	if _, err := decodeHello(payload); err != nil {
		t.Fatal(err)
	}
	return fr
}

// expectClosed asserts the server closes c without sending anything more.
func expectClosed(t *testing.T, c net.Conn, fr io.Reader) {
	t.Helper()
	if fr == nil {
		fr = c
	}
	var b [64]byte
	n, err := fr.Read(b[:])
	if err == nil {
		n2, err2 := fr.Read(b[n:])
		n, err = n+n2, err2
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server kept the connection open")
	}
	if err == nil {
		t.Fatalf("server sent %d unexpected bytes and kept the connection open", n)
	}
}

func TestMalformedInboundClosesOnlyThatConnection(t *testing.T) {
	a, _ := newTransport(t, 1)
	b, recB := newTransport(t, 2, func(c *Config) { c.Snapshots = newMemStore() })
	connect(a, b)

	msg := func(m raftpb.Message) []byte {
		p, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return appendFrame(nil, frameMsg, p)
	}
	oversized := make([]byte, frameHeaderLen)
	binary.BigEndian.PutUint32(oversized, DefaultMaxFrameBytes+1)
	oversized[4] = frameMsg
	badCRC := msg(app(1, 2, 0, nil))
	badCRC[len(badCRC)-1] ^= 0xff
	cases := []struct {
		name      string
		handshake bool
		kind      byte
		send      []byte
	}{
		{name: "garbage before hello", send: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{name: "huge hello length", send: []byte{0xff, 0xff, 0xff, 0xff, frameHello, 0, 0, 0, 0}},
		{name: "message before hello", send: msg(app(1, 2, 0, nil))},
		{name: "oversized frame", handshake: true, kind: streamRaft, send: oversized},
		{name: "bad checksum", handshake: true, kind: streamRaft, send: badCRC},
		{name: "undecodable message", handshake: true, kind: streamRaft, send: appendFrame(nil, frameMsg, []byte{0xff, 0xff, 0xff})},
		{name: "forged sender", handshake: true, kind: streamRaft, send: msg(app(3, 2, 0, nil))},
		{name: "wrong recipient", handshake: true, kind: streamRaft, send: msg(app(1, 3, 0, nil))},
		{name: "chunk on raft stream", handshake: true, kind: streamRaft, send: appendFrame(nil, frameSnapChunk, []byte{1})},
		{name: "MsgSnap on raft stream", handshake: true, kind: streamRaft, send: msg(raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Snapshot: &raftpb.Snapshot{}})},
		{name: "heartbeat on snapshot stream", handshake: true, kind: streamSnapshot, send: msg(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2})},
		{name: "truncated frame", handshake: true, kind: streamRaft, send: msg(app(1, 2, 0, nil))[:12]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := rawDial(t, b)
			var r io.Reader
			if tc.handshake {
				r = rawHandshake(t, c, tc.kind, 1).r
			}
			if _, err := c.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			if tc.name == "truncated frame" {
				_ = c.(*net.TCPConn).CloseWrite()
			}
			expectClosed(t, c, r)
		})
	}
	// The legitimate stream still works and nothing malformed was delivered.
	a.Send([]raftpb.Message{app(1, 2, 77, nil)})
	recB.waitUntil(t, waitTimeout, "legitimate message", func(r *recorder) bool { return len(r.msgs) == 1 })
	if recB.messages()[0].Index != 77 {
		t.Fatalf("delivered %+v", recB.messages()[0])
	}
}

func TestHandshakeRejects(t *testing.T) {
	b, _ := newTransport(t, 2)
	badMagic := helloBytes(t, streamRaft, 7, 1)
	badMagic[frameHeaderLen] = 'X'
	putFrameHeader(badMagic, frameHello, badMagic[frameHeaderLen:])
	futureVersion, _ := encodeHello(hello{Version: 99, Kind: streamRaft, ClusterID: 7, NodeID: 1})
	cases := map[string]struct {
		send []byte
		code byte
	}{
		"bad magic":        {badMagic, rejectBadHello},
		"future version":   {appendFrame(nil, frameHello, futureVersion), rejectVersion},
		"other cluster":    {helloBytes(t, streamRaft, 8, 1), rejectClusterID},
		"zero node id":     {helloBytes(t, streamRaft, 7, 0), rejectNodeID},
		"own node id":      {helloBytes(t, streamRaft, 7, 2), rejectNodeID},
		"unknown kind":     {helloBytes(t, 9, 7, 1), rejectBadHello},
		"reply kind":       {helloBytes(t, streamReply, 7, 1), rejectBadHello},
		"no snapshot flow": {helloBytes(t, streamSnapshot, 7, 1), rejectNoSnapshotFlow},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := rawDial(t, b)
			if _, err := c.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			fr := newFrameReader(c, DefaultMaxFrameBytes)
			typ, payload, err := fr.next(maxControlFrameBytes)
			if err != nil || typ != frameReject {
				t.Fatalf("got type %d err %v, want a reject frame", typ, err)
			}
			code, reason, err := decodeCodeText(payload)
			if err != nil || code != tc.code || reason == "" {
				t.Fatalf("reject code %d reason %q err %v, want code %d", code, reason, err, tc.code)
			}
			expectClosed(t, c, fr.r)
		})
	}
}

// A second raft stream from the same peer replaces the first, which is
// closed so its unread tail cannot interleave with the new stream.
func TestNewInboundStreamReplacesOld(t *testing.T) {
	b, recB := newTransport(t, 2)
	c1 := rawDial(t, b)
	fr1 := rawHandshake(t, c1, streamRaft, 1)
	c2 := rawDial(t, b)
	rawHandshake(t, c2, streamRaft, 1)
	expectClosed(t, c1, fr1.r)
	m := app(1, 2, 5, nil)
	p, _ := m.Marshal()
	if _, err := c2.Write(appendFrame(nil, frameMsg, p)); err != nil {
		t.Fatal(err)
	}
	recB.waitUntil(t, waitTimeout, "message on the new stream", func(r *recorder) bool { return len(r.msgs) == 1 })
}
