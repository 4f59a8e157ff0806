package entry

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the envelope format written by this build.
const Version = 1

// HeaderSize is the encoded size of a Header.
const HeaderSize = 34

// Kind labels what an entry does; the body format follows the kind.
type Kind uint8

// Entry kinds.
const (
	KindTxn       Kind = 1 // client transactions
	KindClaim     Kind = 2 // outbox claims
	KindAck       Kind = 3 // outbox acknowledgements
	KindFail      Kind = 4 // outbox failures
	KindMigration Kind = 5 // chr2 schema migrations
)

func (k Kind) String() string {
	switch k {
	case KindTxn:
		return "txn"
	case KindClaim:
		return "claim"
	case KindAck:
		return "ack"
	case KindFail:
		return "fail"
	case KindMigration:
		return "migration"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// KindFromLabel maps outbox labels ("claim", "ack", "fail") to kinds.
func KindFromLabel(label string) (Kind, bool) {
	switch label {
	case "txn":
		return KindTxn, true
	case "claim":
		return KindClaim, true
	case "ack":
		return KindAck, true
	case "fail":
		return KindFail, true
	case "migration":
		return KindMigration, true
	}
	return 0, false
}

// Header is the decoded envelope.
type Header struct {
	Kind        Kind
	BlockTime   int64 // unix microseconds
	ProposerID  uint64
	ProposalSeq uint64
	Term        uint64
}

// ErrMalformed reports an envelope that cannot be decoded.
var ErrMalformed = errors.New("entry: malformed envelope")

// Encode returns header followed by body.
func Encode(h Header, body []byte) []byte {
	b := make([]byte, HeaderSize+len(body))
	b[0] = Version
	b[1] = byte(h.Kind)
	binary.BigEndian.PutUint64(b[2:], uint64(h.BlockTime))
	binary.BigEndian.PutUint64(b[10:], h.ProposerID)
	binary.BigEndian.PutUint64(b[18:], h.ProposalSeq)
	binary.BigEndian.PutUint64(b[26:], h.Term)
	copy(b[HeaderSize:], body)
	return b
}

// Decode splits an entry into its header and body. The body aliases b.
func Decode(b []byte) (Header, []byte, error) {
	if len(b) < HeaderSize {
		return Header{}, nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	if b[0] != Version {
		return Header{}, nil, fmt.Errorf("%w: version %d", ErrMalformed, b[0])
	}
	h := Header{
		Kind:        Kind(b[1]),
		BlockTime:   int64(binary.BigEndian.Uint64(b[2:])),
		ProposerID:  binary.BigEndian.Uint64(b[10:]),
		ProposalSeq: binary.BigEndian.Uint64(b[18:]),
		Term:        binary.BigEndian.Uint64(b[26:]),
	}
	if h.Kind < KindTxn || h.Kind > KindMigration {
		return Header{}, nil, fmt.Errorf("%w: kind %d", ErrMalformed, b[1])
	}
	return h, b[HeaderSize:], nil
}

// BlockTime returns the block time of an encoded entry, or 0 when data is
// not an envelope (empty entries, configuration changes).
func BlockTime(data []byte) int64 {
	if len(data) < HeaderSize || data[0] != Version {
		return 0
	}
	return int64(binary.BigEndian.Uint64(data[2:]))
}
