package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
)

// Frame types. The numbering is part of the wire format: never reuse a value.
const (
	frameHello     byte = 1 // handshake, both directions
	frameReject    byte = 2 // handshake refused; payload = code byte + reason text
	frameMsg       byte = 3 // one raftpb.Message
	frameSnapBegin byte = 4 // u64 size of the snapshot file that follows
	frameSnapChunk byte = 5 // a non-empty slice of the snapshot file
	frameSnapEnd   byte = 6 // u32 CRC32C of the whole snapshot file
	frameSnapAck   byte = 7 // u8 status + reason text, receiver → sender
)

// Stream kinds carried in the hello frame.
const (
	streamReply    byte = 0 // the acceptor's answer to a dialer's hello
	streamRaft     byte = 1 // a long-lived one-way stream of raft messages
	streamSnapshot byte = 2 // one MsgSnap followed by its file, then an ack
)

// Reject codes.
const (
	rejectBadHello       byte = 1
	rejectVersion        byte = 2
	rejectClusterID      byte = 3
	rejectNodeID         byte = 4
	rejectNoSnapshotFlow byte = 5
)

// Snapshot ack status.
const (
	snapAckOK   byte = 0
	snapAckFail byte = 1
)

const (
	protocolVersion   uint16 = 1
	frameHeaderLen           = 9 // u32 payload length, u8 type, u32 crc32c(type ‖ payload)
	helloFixedLen            = 4 + 2 + 1 + 8 + 8 + 2
	maxMetaEntries           = 64
	maxMetaKeyBytes          = 256
	maxMetaValueBytes        = 4096
	maxReasonBytes           = 512
	// maxControlFrameBytes bounds every frame that is not a raft message or a
	// snapshot chunk, so a handshake cannot make us allocate MaxFrameBytes.
	maxControlFrameBytes = helloFixedLen + maxMetaEntries*(4+maxMetaKeyBytes+maxMetaValueBytes)
)

var helloMagic = [4]byte{'C', '2', 'R', 'T'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrFrameTooLarge reports a frame whose declared length exceeds the limit.
	ErrFrameTooLarge = errors.New("transport: frame exceeds size limit")
	// ErrFrameChecksum reports a frame whose CRC32C does not match.
	ErrFrameChecksum = errors.New("transport: frame checksum mismatch")
	// ErrBadHello reports a malformed handshake payload.
	ErrBadHello = errors.New("transport: malformed handshake")
	// ErrBadFrame reports a frame that is well-formed at the framing layer but
	// has an unexpected type or an invalid payload.
	ErrBadFrame = errors.New("transport: unexpected or malformed frame")
)

// frameReader reads frames from a buffered stream, reusing one payload buffer.
// The payload returned by next is valid only until the following call.
type frameReader struct {
	r        *bufio.Reader
	maxBytes int
	buf      []byte
}

func newFrameReader(r io.Reader, maxBytes int) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10), maxBytes: maxBytes}
}

// next reads one frame whose payload may be at most limit bytes (limit ≤ 0
// means the reader's maxBytes). The size is checked before any allocation.
func (fr *frameReader) next(limit int) (typ byte, payload []byte, err error) {
	if limit <= 0 || limit > fr.maxBytes {
		limit = fr.maxBytes
	}
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[0:4])
	if uint64(n) > uint64(limit) {
		return 0, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, limit)
	}
	typ = hdr[4]
	want := binary.BigEndian.Uint32(hdr[5:9])
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	payload = fr.buf[:n]
	if _, err := io.ReadFull(fr.r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	if frameCRC(typ, payload) != want {
		return 0, nil, ErrFrameChecksum
	}
	// Drop a huge buffer after use so one big message does not pin memory
	// for the connection's lifetime.
	if cap(fr.buf) > 4<<20 && n < 1<<20 {
		fr.buf = nil
	}
	return typ, payload, nil
}

func frameCRC(typ byte, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, []byte{typ})
	return crc32.Update(c, castagnoli, payload)
}

// putFrameHeader fills the 9-byte header for payload in dst[:frameHeaderLen].
func putFrameHeader(dst []byte, typ byte, payload []byte) {
	binary.BigEndian.PutUint32(dst[0:4], uint32(len(payload)))
	dst[4] = typ
	binary.BigEndian.PutUint32(dst[5:9], frameCRC(typ, payload))
}

// appendFrame appends a complete frame to dst.
func appendFrame(dst []byte, typ byte, payload []byte) []byte {
	var hdr [frameHeaderLen]byte
	putFrameHeader(hdr[:], typ, payload)
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

// writeFrame writes one frame with a single Write call.
func writeFrame(w io.Writer, typ byte, payload []byte) error {
	_, err := w.Write(appendFrame(make([]byte, 0, frameHeaderLen+len(payload)), typ, payload))
	return err
}

// hello is the handshake payload.
type hello struct {
	Version   uint16
	Kind      byte
	ClusterID uint64
	NodeID    uint64
	Meta      map[string]string
}

// encodeHello produces the canonical encoding: meta keys sorted, so the same
// hello always gives the same bytes.
func encodeHello(h hello) ([]byte, error) {
	if len(h.Meta) > maxMetaEntries {
		return nil, fmt.Errorf("%w: %d meta entries, limit %d", ErrBadHello, len(h.Meta), maxMetaEntries)
	}
	keys := make([]string, 0, len(h.Meta))
	for k, v := range h.Meta {
		if len(k) == 0 || len(k) > maxMetaKeyBytes || len(v) > maxMetaValueBytes {
			return nil, fmt.Errorf("%w: meta entry %q out of bounds", ErrBadHello, k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := make([]byte, 0, helloFixedLen+64)
	b = append(b, helloMagic[:]...)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	b = append(b, h.Kind)
	b = binary.BigEndian.AppendUint64(b, h.ClusterID)
	b = binary.BigEndian.AppendUint64(b, h.NodeID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(keys)))
	for _, k := range keys {
		v := h.Meta[k]
		b = binary.BigEndian.AppendUint16(b, uint16(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	return b, nil
}

// decodeHello accepts only the canonical encoding (magic, sorted unique keys,
// bounded sizes, no trailing bytes). The version is returned, not checked:
// the caller answers a version mismatch with a specific reject code.
func decodeHello(b []byte) (hello, error) {
	var h hello
	if len(b) < helloFixedLen || [4]byte(b[0:4]) != helloMagic {
		return h, fmt.Errorf("%w: bad magic or short", ErrBadHello)
	}
	h.Version = binary.BigEndian.Uint16(b[4:6])
	h.Kind = b[6]
	h.ClusterID = binary.BigEndian.Uint64(b[7:15])
	h.NodeID = binary.BigEndian.Uint64(b[15:23])
	n := int(binary.BigEndian.Uint16(b[23:25]))
	if n > maxMetaEntries {
		return h, fmt.Errorf("%w: %d meta entries", ErrBadHello, n)
	}
	rest := b[helloFixedLen:]
	h.Meta = make(map[string]string, n)
	prev := ""
	for i := 0; i < n; i++ {
		k, r, ok := takeString(rest, maxMetaKeyBytes)
		if !ok || k == "" || (i > 0 && k <= prev) {
			return h, fmt.Errorf("%w: meta key %d", ErrBadHello, i)
		}
		v, r2, ok := takeString(r, maxMetaValueBytes)
		if !ok {
			return h, fmt.Errorf("%w: meta value %d", ErrBadHello, i)
		}
		h.Meta[k] = v
		prev, rest = k, r2
	}
	if len(rest) != 0 {
		return h, fmt.Errorf("%w: %d trailing bytes", ErrBadHello, len(rest))
	}
	return h, nil
}

func takeString(b []byte, maxLen int) (s string, rest []byte, ok bool) {
	if len(b) < 2 {
		return "", nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if n > maxLen || len(b) < 2+n {
		return "", nil, false
	}
	return string(b[2 : 2+n]), b[2+n:], true
}

// encodeCodeText encodes a code byte followed by text truncated to
// maxReasonBytes (reject and snapshot-ack payloads).
func encodeCodeText(code byte, text string) []byte {
	if len(text) > maxReasonBytes {
		text = text[:maxReasonBytes]
	}
	return append([]byte{code}, text...)
}

func decodeCodeText(b []byte) (code byte, text string, err error) {
	if len(b) < 1 || len(b) > 1+maxReasonBytes {
		return 0, "", fmt.Errorf("%w: code/text payload of %d bytes", ErrBadFrame, len(b))
	}
	return b[0], string(b[1:]), nil
}

func encodeU64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func decodeU64(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: want 8 bytes, got %d", ErrBadFrame, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

func encodeU32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func decodeU32(b []byte) (uint32, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("%w: want 4 bytes, got %d", ErrBadFrame, len(b))
	}
	return binary.BigEndian.Uint32(b), nil
}
