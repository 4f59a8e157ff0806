package wal

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Record is one raft log entry as the WAL stores it.
type Record struct {
	Index     uint64
	Term      uint64
	Type      uint8 // raft entry type; opaque to wal
	BlockTime int64 // unix microseconds; opaque to wal
	Data      []byte
}

const (
	// RecordHeaderBytes is the fixed part of an encoded record.
	RecordHeaderBytes = 72
	// SegmentHeaderBytes is the size of a segment header.
	SegmentHeaderBytes = 80
	// MaxDataBytes bounds Record.Data. A length field above it is never
	// plausible, which keeps recovery from chasing garbage lengths.
	MaxDataBytes = 64 << 20

	// segmentVersion1 segments grow with each append; the file ends at the
	// end of the last record (or inside a torn one).
	segmentVersion1 = 1
	// segmentVersion2 segments are preallocated: created zero-filled, records
	// overwrite the zeros in place, and zeros after the last record up to the
	// end of the file are the clean end of the segment.
	segmentVersion2 = 2
	flagBase        = 1 // segment starts a new log base (Reset or first segment)
	segmentSuffix   = ".wal"
	tmpSuffix       = ".tmp"
	// spareName is a zero-filled file of SegmentBytes prepared ahead of time;
	// a rollover or Reset turns it into the next segment. It is not part of
	// the log.
	spareName = "prealloc.spare"
)

var (
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
	segmentMagic = [8]byte{'c', 'h', 'r', '2', 'w', 'a', 'l', 0}
)

// decoder outcomes: each tells recovery what kind of damage it saw.
var (
	errShortHeader  = errors.New("incomplete record header")
	errShortPayload = errors.New("incomplete record payload")
	errTooLarge     = errors.New("record length above MaxDataBytes")
	errBadCRC       = errors.New("record checksum mismatch")
	errReserved     = errors.New("record reserved bytes not zero")
)

// chainHash computes hash(i) = SHA-256(hash(i-1) || index || term || type ||
// blockTime || data), the fixed-width fields little-endian (8, 8, 1, 8 bytes).
func chainHash(prev [32]byte, r *Record) [32]byte {
	var fixed [25]byte
	binary.LittleEndian.PutUint64(fixed[0:], r.Index)
	binary.LittleEndian.PutUint64(fixed[8:], r.Term)
	fixed[16] = r.Type
	binary.LittleEndian.PutUint64(fixed[17:], uint64(r.BlockTime))
	h := sha256.New()
	h.Write(prev[:])
	h.Write(fixed[:])
	h.Write(r.Data)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// appendRecord appends the encoding of r, whose own chain hash is hash, to dst.
func appendRecord(dst []byte, r *Record, hash [32]byte) []byte {
	start := len(dst)
	var hdr [RecordHeaderBytes]byte
	binary.LittleEndian.PutUint32(hdr[0:], uint32(len(r.Data)))
	binary.LittleEndian.PutUint64(hdr[8:], r.Index)
	binary.LittleEndian.PutUint64(hdr[16:], r.Term)
	hdr[24] = r.Type
	binary.LittleEndian.PutUint64(hdr[32:], uint64(r.BlockTime))
	copy(hdr[40:], hash[:])
	dst = append(dst, hdr[:]...)
	dst = append(dst, r.Data...)
	binary.LittleEndian.PutUint32(dst[start+4:], recordCRC(dst[start:]))
	return dst
}

// recordCRC is CRC32C over the length field, then everything after the CRC
// field (rest of the header and the payload).
func recordCRC(rec []byte) uint32 {
	c := crc32.Update(0, castagnoli, rec[0:4])
	return crc32.Update(c, castagnoli, rec[8:])
}

// decodeRecord decodes the record at the start of b. On success it returns
// the record (Data aliases b), its stored chain hash and its encoded size. It
// never panics, whatever b holds; it does not check the chain.
func decodeRecord(b []byte) (Record, [32]byte, int, error) {
	var hash [32]byte
	if len(b) < RecordHeaderBytes {
		return Record{}, hash, 0, errShortHeader
	}
	n := binary.LittleEndian.Uint32(b[0:])
	if n > MaxDataBytes {
		return Record{}, hash, 0, errTooLarge
	}
	size := RecordHeaderBytes + int(n)
	if len(b) < size {
		return Record{}, hash, 0, errShortPayload
	}
	if recordCRC(b[:size]) != binary.LittleEndian.Uint32(b[4:]) {
		return Record{}, hash, 0, errBadCRC
	}
	for _, c := range b[25:32] {
		if c != 0 {
			return Record{}, hash, 0, errReserved
		}
	}
	r := Record{
		Index:     binary.LittleEndian.Uint64(b[8:]),
		Term:      binary.LittleEndian.Uint64(b[16:]),
		Type:      b[24],
		BlockTime: int64(binary.LittleEndian.Uint64(b[32:])),
		Data:      b[RecordHeaderBytes:size:size],
	}
	copy(hash[:], b[40:72])
	return r, hash, size, nil
}

// plausibleAt reports whether a complete record with a valid CRC and zero
// reserved bytes starts at b[0]. Recovery uses it to tell a torn tail from
// mid-log corruption.
//
// The reserved-bytes test comes before the CRC because it is cheap and every
// record this WAL writes passes it (the CRC covers those bytes, so a real
// record that fails it fails the CRC too). Without it, a torn run of binary
// bytes followed by a preallocated segment's zeros costs a CRC over up to
// 64 MiB at about one offset in 64: seconds per 64 KiB of torn data. With
// it, a random offset reaches the CRC with probability 2^-56.
func plausibleAt(b []byte) bool {
	if len(b) < RecordHeaderBytes {
		return false
	}
	n := binary.LittleEndian.Uint32(b[0:])
	if n > MaxDataBytes || len(b) < RecordHeaderBytes+int(n) || !isZero(b[25:32]) {
		return false
	}
	if binary.LittleEndian.Uint64(b[0:]) == 0 && isZero(b[8:RecordHeaderBytes]) {
		return false // an all-zero header never carries a valid CRC
	}
	return recordCRC(b[:RecordHeaderBytes+int(n)]) == binary.LittleEndian.Uint32(b[4:])
}

var zeroBlock [4096]byte

func isZero(b []byte) bool {
	for len(b) > 0 {
		k := min(len(b), len(zeroBlock))
		if string(b[:k]) != string(zeroBlock[:k]) { // memequal, no allocation
			return false
		}
		b = b[k:]
	}
	return true
}

// zeroTailStart returns the smallest offset >= from at which only zero bytes
// remain in b (len(b) when b ends with a non-zero byte). It scans backwards
// a block at a time, so a mostly empty 64 MiB segment costs one fast pass.
func zeroTailStart(b []byte, from int64) int64 {
	end := int64(len(b))
	for end-from >= int64(len(zeroBlock)) && isZero(b[end-int64(len(zeroBlock)):end]) {
		end -= int64(len(zeroBlock))
	}
	for end > from && b[end-1] == 0 {
		end--
	}
	return end
}

// segmentHeader is the first SegmentHeaderBytes of every segment file.
type segmentHeader struct {
	Version  uint32 // segmentVersion1 or segmentVersion2; 0 encodes as 1
	Flags    uint32
	Seq      uint64
	First    uint64   // index of the first record stored in the segment
	PrevTerm uint64   // term of record First-1 (the base term for a base segment)
	PrevHash [32]byte // chain hash of record First-1
}

func (h *segmentHeader) encode() []byte {
	b := make([]byte, SegmentHeaderBytes)
	copy(b[0:8], segmentMagic[:])
	binary.LittleEndian.PutUint32(b[8:], max(h.Version, segmentVersion1))
	binary.LittleEndian.PutUint32(b[12:], h.Flags)
	binary.LittleEndian.PutUint64(b[16:], h.Seq)
	binary.LittleEndian.PutUint64(b[24:], h.First)
	binary.LittleEndian.PutUint64(b[32:], h.PrevTerm)
	copy(b[40:72], h.PrevHash[:])
	binary.LittleEndian.PutUint32(b[76:], crc32.Checksum(b[:76], castagnoli))
	return b
}

func decodeSegmentHeader(b []byte) (segmentHeader, error) {
	var h segmentHeader
	if len(b) < SegmentHeaderBytes {
		return h, fmt.Errorf("segment header incomplete: %d of %d bytes", len(b), SegmentHeaderBytes)
	}
	if crc32.Checksum(b[:76], castagnoli) != binary.LittleEndian.Uint32(b[76:]) {
		return h, errors.New("segment header checksum mismatch")
	}
	if [8]byte(b[0:8]) != segmentMagic {
		return h, errors.New("segment header magic mismatch")
	}
	h.Version = binary.LittleEndian.Uint32(b[8:])
	if h.Version != segmentVersion1 && h.Version != segmentVersion2 {
		return h, fmt.Errorf("unsupported segment format version %d", h.Version)
	}
	if !isZero(b[72:76]) {
		return h, errors.New("segment header reserved bytes not zero")
	}
	h.Flags = binary.LittleEndian.Uint32(b[12:])
	if h.Flags&^uint32(flagBase) != 0 {
		return h, fmt.Errorf("unknown segment flags %#x", h.Flags)
	}
	h.Seq = binary.LittleEndian.Uint64(b[16:])
	h.First = binary.LittleEndian.Uint64(b[24:])
	h.PrevTerm = binary.LittleEndian.Uint64(b[32:])
	copy(h.PrevHash[:], b[40:72])
	return h, nil
}

// segmentName is "<seq>-<first>.wal" with both numbers as 16 lower-case hex
// digits, so lexical order is log order.
func segmentName(seq, first uint64) string {
	return fmt.Sprintf("%016x-%016x%s", seq, first, segmentSuffix)
}

// parseSegmentName is the inverse of segmentName.
func parseSegmentName(name string) (seq, first uint64, ok bool) {
	s, found := strings.CutSuffix(name, segmentSuffix)
	if !found || len(s) != 33 || s[16] != '-' {
		return 0, 0, false
	}
	for _, c := range s[:16] + s[17:] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return 0, 0, false
		}
	}
	seq, err1 := strconv.ParseUint(s[:16], 16, 64)
	first, err2 := strconv.ParseUint(s[17:], 16, 64)
	return seq, first, err1 == nil && err2 == nil
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
