package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"maps"
	"net"
	"runtime"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

func TestFrameRoundTrip(t *testing.T) {
	var stream []byte
	payloads := [][]byte{{}, []byte("x"), bytes.Repeat([]byte{0xab}, 70000)}
	for i, p := range payloads {
		stream = appendFrame(stream, byte(i+1), p)
	}
	fr := newFrameReader(bytes.NewReader(stream), 1<<20)
	for i, want := range payloads {
		typ, got, err := fr.next(0)
		if err != nil || typ != byte(i+1) || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: type %d len %d err %v", i, typ, len(got), err)
		}
	}
	if _, _, err := fr.next(0); err != io.EOF {
		t.Fatalf("after last frame: %v, want EOF", err)
	}
}

func TestFrameReaderRejects(t *testing.T) {
	good := appendFrame(nil, frameMsg, []byte("payload"))
	flipType := bytes.Clone(good)
	flipType[4] = frameHello // the type byte is covered by the checksum
	flipPayload := bytes.Clone(good)
	flipPayload[len(flipPayload)-1] ^= 1
	cases := map[string]struct {
		in    []byte
		limit int
		want  error
	}{
		"type flipped":    {flipType, 0, ErrFrameChecksum},
		"payload flipped": {flipPayload, 0, ErrFrameChecksum},
		"over limit":      {good, 3, ErrFrameTooLarge},
		"short header":    {good[:5], 0, io.ErrUnexpectedEOF},
		"short payload":   {good[:len(good)-1], 0, io.ErrUnexpectedEOF},
	}
	for name, tc := range cases {
		fr := newFrameReader(bytes.NewReader(tc.in), 1<<20)
		if _, _, err := fr.next(tc.limit); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

// A declared length over the limit is refused from the header alone: the
// reader must not wait for (or allocate) the payload.
func TestFrameReaderChecksSizeBeforeReading(t *testing.T) {
	hdr := make([]byte, frameHeaderLen)
	hdr[0] = 0x7f // ~2 GiB declared
	fr := newFrameReader(io.MultiReader(bytes.NewReader(hdr), blockingReader{}), 1<<20)
	done := make(chan error, 1)
	go func() { _, _, err := fr.next(0); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("reader waited for the payload of an oversized frame")
	}
	if cap(fr.buf) != 0 {
		t.Fatalf("allocated %d bytes for a refused frame", cap(fr.buf))
	}
}

type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

func TestHelloCanonical(t *testing.T) {
	h := hello{Version: 1, Kind: streamRaft, ClusterID: 9, NodeID: 3,
		Meta: map[string]string{"pg-addr": "a:1", "http-addr": "b:2", "zone": ""}}
	b1, err := encodeHello(h)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ { // map iteration order must not leak into the bytes
		b2, _ := encodeHello(h)
		if !bytes.Equal(b1, b2) {
			t.Fatal("hello encoding is not deterministic")
		}
	}
	got, err := decodeHello(b1)
	if err != nil || got.NodeID != 3 || got.ClusterID != 9 || !maps.Equal(got.Meta, h.Meta) {
		t.Fatalf("decoded %+v err %v", got, err)
	}
	// Swapping two meta entries gives a non-canonical payload: refused.
	one, _ := encodeHello(hello{Meta: map[string]string{"a": "1"}})
	two, _ := encodeHello(hello{Meta: map[string]string{"b": "2"}})
	entryA, entryB := one[helloFixedLen:], two[helloFixedLen:]
	swapped := append(bytes.Clone(one[:helloFixedLen]), entryB...)
	swapped = append(swapped, entryA...)
	swapped[helloFixedLen-1] = 2
	if _, err := decodeHello(swapped); !errors.Is(err, ErrBadHello) {
		t.Fatalf("unsorted meta accepted: %v", err)
	}
	if _, err := decodeHello(append(bytes.Clone(b1), 0)); !errors.Is(err, ErrBadHello) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
}

// FuzzFrameStream feeds arbitrary bytes to the frame reader and every payload
// decoder. Nothing may panic, and a hello that decodes must re-encode to the
// same bytes (the encoding is canonical).
func FuzzFrameStream(f *testing.F) {
	for _, s := range seedStreams() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameReader(bytes.NewReader(data), minFrameLimit)
		for {
			typ, payload, err := fr.next(0)
			if err != nil {
				return
			}
			decodeFramePayload(t, typ, payload)
		}
	})
}

func decodeFramePayload(t *testing.T, typ byte, payload []byte) {
	switch typ {
	case frameHello:
		h, err := decodeHello(payload)
		if err != nil {
			return
		}
		again, err := encodeHello(h)
		if err != nil || !bytes.Equal(again, payload) {
			t.Fatalf("hello not canonical: re-encoded %x from %x (err %v)", again, payload, err)
		}
	case frameMsg:
		var m raftpb.Message
		_ = m.Unmarshal(payload)
	case frameSnapBegin:
		_, _ = decodeU64(payload)
	case frameSnapEnd:
		_, _ = decodeU32(payload)
	case frameReject, frameSnapAck:
		_, _, _ = decodeCodeText(payload)
	}
}

// FuzzServeConn runs the real inbound connection handler on arbitrary bytes:
// it must neither panic nor hang, and may deliver only messages that passed
// every check.
func FuzzServeConn(f *testing.F) {
	for _, s := range seedStreams() {
		f.Add(s)
	}
	tr, err := New(Config{NodeID: 2, ClusterID: 7, ListenAddr: "127.0.0.1:0", Snapshots: newMemStore(),
		Logger: zap.NewNop(), MaxFrameBytes: minFrameLimit, WriteTimeout: time.Second, SnapshotTimeout: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	defer tr.Close()
	f.Fuzz(func(t *testing.T, data []byte) { serveBytes(t, tr, data) })
}

// FuzzServeConnFramed is FuzzServeConn with valid framing supplied by the
// harness: the input is a list of (type, u16 length, payload) records, each
// wrapped into a frame with a correct checksum, so the fuzzer explores the
// handshake and stream logic instead of fighting the CRC.
func FuzzServeConnFramed(f *testing.F) {
	for _, s := range seedStreams() {
		f.Add(unframe(s))
	}
	tr, err := New(Config{NodeID: 2, ClusterID: 7, ListenAddr: "127.0.0.1:0", Snapshots: newMemStore(),
		Logger: zap.NewNop(), MaxFrameBytes: minFrameLimit, WriteTimeout: time.Second, SnapshotTimeout: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	defer tr.Close()
	f.Fuzz(func(t *testing.T, data []byte) { serveBytes(t, tr, reframe(data)) })
}

func reframe(data []byte) []byte {
	var out []byte
	for len(data) >= 3 {
		typ, n := data[0], int(binary.BigEndian.Uint16(data[1:3]))
		data = data[3:]
		n = min(n, len(data))
		out = appendFrame(out, typ, data[:n])
		data = data[n:]
	}
	return out
}

// unframe is the inverse of reframe for well-formed streams (payloads under
// 64 KiB), used to turn seed transcripts into FuzzServeConnFramed inputs.
func unframe(stream []byte) []byte {
	var out []byte
	fr := newFrameReader(bytes.NewReader(stream), 1<<16-1)
	for {
		typ, payload, err := fr.next(0)
		if err != nil {
			return out
		}
		out = append(out, typ)
		out = binary.BigEndian.AppendUint16(out, uint16(len(payload)))
		out = append(out, payload...)
	}
}

func serveBytes(t *testing.T, tr *Transport, data []byte) {
	rec := newRecorder()
	tr.handler = rec // serveConn is not running: no concurrent reader
	server, client := net.Pipe()
	done := make(chan struct{})
	go func() { defer close(done); tr.serveConn(server); _ = server.Close() }()
	go func() { _, _ = io.Copy(io.Discard, client) }() // absorb replies and acks
	go func() { _, _ = client.Write(data); _ = client.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("serveConn did not return after the client closed:\n%s", buf[:runtime.Stack(buf, true)])
	}
	_ = client.Close()
	for _, m := range rec.messages() {
		if m.From != 1 || m.To != 2 {
			t.Fatalf("delivered misaddressed message %d→%d", m.From, m.To)
		}
	}
}

// seedStreams are valid and nearly-valid connection transcripts; the same
// streams are committed under testdata/fuzz.
func seedStreams() [][]byte {
	h, _ := encodeHello(hello{Version: protocolVersion, Kind: streamRaft, ClusterID: 7, NodeID: 1,
		Meta: map[string]string{"pg-addr": "127.0.0.1:5433"}})
	hs, _ := encodeHello(hello{Version: protocolVersion, Kind: streamSnapshot, ClusterID: 7, NodeID: 1})
	m := app(1, 2, 5, []byte("entry"))
	mb, _ := m.Marshal()
	hb := raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 2, Commit: 4}
	hbb, _ := hb.Marshal()
	sm := raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: 3,
		Snapshot: &raftpb.Snapshot{Data: []byte("m"), Metadata: raftpb.SnapshotMetadata{Index: 9, Term: 3}}}
	smb, _ := sm.Marshal()

	raft := appendFrame(nil, frameHello, h)
	raft = appendFrame(raft, frameMsg, mb)
	raft = appendFrame(raft, frameMsg, hbb)

	snap := appendFrame(nil, frameHello, hs)
	snap = appendFrame(snap, frameMsg, smb)
	snap = appendFrame(snap, frameSnapBegin, encodeU64(4))
	snap = appendFrame(snap, frameSnapChunk, []byte("da"))
	snap = appendFrame(snap, frameSnapChunk, []byte("ta"))
	snap = appendFrame(snap, frameSnapEnd, encodeU32(crc32.Checksum([]byte("data"), castagnoli)))

	control := appendFrame(nil, frameReject, encodeCodeText(rejectClusterID, "cluster id 8 does not match 7"))
	control = appendFrame(control, frameSnapAck, encodeCodeText(snapAckOK, ""))
	return [][]byte{raft, snap, control, raft[:len(raft)-3], {}}
}
