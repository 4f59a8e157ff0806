package pgwire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Framing limits. A message's body is read into a reusable buffer of up to
// retainedBufferBytes; larger bodies (up to maxBodyBytes) get a one-off
// buffer that is dropped afterwards, so one big message does not pin memory
// for the life of the connection.
const (
	readBufferBytes     = 8 << 10
	retainedBufferBytes = 64 << 10
	// maxStartupPacketBytes is MAX_STARTUP_PACKET_LENGTH from PostgreSQL.
	maxStartupPacketBytes = 10_000
)

// frameReader splits the byte stream into typed messages. It owns no
// protocol state: decoding a body is the caller's business.
type frameReader struct {
	br           *bufio.Reader
	buf          []byte
	hdr          [5]byte // a field, not a local: a local would escape per message
	maxBodyBytes int
}

func newFrameReader(r io.Reader, maxBodyBytes int) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, readBufferBytes), maxBodyBytes: maxBodyBytes}
}

// reset points the reader at a new transport (after the TLS upgrade).
func (fr *frameReader) reset(r io.Reader) { fr.br.Reset(r) }

// next reads one regular message. The body stays valid until the next
// call. I/O errors are returned as they are; a bad length is a *frameError.
func (fr *frameReader) next() (typ byte, body []byte, err error) {
	hdr := fr.hdr[:]
	if _, err := io.ReadFull(fr.br, hdr); err != nil {
		return 0, nil, err
	}
	n := int64(int32(binary.BigEndian.Uint32(hdr[1:]))) - 4 //nolint:gosec // sign reinterpretation is the check
	if n < 0 {
		return 0, nil, &frameError{fatal(pgerr.ProtocolViolation, "invalid message length")}
	}
	if n > int64(fr.maxBodyBytes) {
		return 0, nil, &frameError{fatal(pgerr.ProgramLimitExceeded, "message too large").
			WithDetail("A message of %d bytes exceeds the limit of %d bytes.", n, fr.maxBodyBytes)}
	}
	body, err = fr.readBody(int(n))
	if err != nil {
		return 0, nil, err
	}
	return hdr[0], body, nil
}

func (fr *frameReader) readBody(n int) ([]byte, error) {
	var b []byte
	switch {
	case n <= cap(fr.buf):
		b = fr.buf[:n]
	case n <= retainedBufferBytes:
		fr.buf = make([]byte, n, max(n, 2*cap(fr.buf)))
		b = fr.buf
	default:
		b = make([]byte, n)
	}
	if _, err := io.ReadFull(fr.br, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// startupPacket reads an untyped, length-prefixed startup-phase packet
// (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest).
func (fr *frameReader) startupPacket() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(fr.br, hdr[:]); err != nil {
		return nil, err
	}
	n := int64(int32(binary.BigEndian.Uint32(hdr[:]))) - 4 //nolint:gosec // sign reinterpretation is the check
	if n < 4 || n > maxStartupPacketBytes {
		return nil, &frameError{fatal(pgerr.ProtocolViolation, "invalid length of startup packet")}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(fr.br, b); err != nil {
		return nil, fmt.Errorf("%w: %w", errClientGone, err)
	}
	return b, nil
}
