package sqlengine

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// COPY's binary format: an 11-byte signature, a flags word and a header
// extension, then per row a 16-bit field count followed by each field as a
// 32-bit length (-1 for NULL) and the value in the type's binary send form;
// a field count of -1 ends the data.

var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

// maxCopyFieldBytes bounds one binary field (54000 beyond).
const maxCopyFieldBytes = 64 << 20

// binaryCopyReader reads rows of binary COPY data, decoding each field
// with its column's type.
type binaryCopyReader struct {
	r     *bufio.Reader
	types []pgval.OID
	row   int
	began bool
}

func newBinaryCopyReader(r io.Reader, types []pgval.OID) *binaryCopyReader {
	return &binaryCopyReader{r: bufio.NewReaderSize(r, 64<<10), types: types}
}

func badBinaryCopy(format string, args ...any) error {
	return pgerr.New(pgerr.BadCopyFileFormat, format, args...)
}

func (br *binaryCopyReader) header() error {
	sig := make([]byte, len(copySignature))
	if _, err := io.ReadFull(br.r, sig); err != nil || !bytes.Equal(sig, copySignature) {
		return badBinaryCopy("COPY file signature not recognized")
	}
	var hdr [8]byte
	if _, err := io.ReadFull(br.r, hdr[:]); err != nil {
		return badBinaryCopy("invalid COPY file header (missing flags)")
	}
	if flags := binary.BigEndian.Uint32(hdr[:4]); flags&(1<<16) != 0 {
		return badBinaryCopy("invalid COPY file header (WITH OIDS)")
	}
	ext := int64(binary.BigEndian.Uint32(hdr[4:]))
	if _, err := io.CopyN(io.Discard, br.r, ext); err != nil {
		return badBinaryCopy("invalid COPY file header (wrong length)")
	}
	return nil
}

// next returns the next row's values in the value model; errCopyEnd after
// the trailer or at the end of the stream.
func (br *binaryCopyReader) next() ([]any, error) {
	if !br.began {
		br.began = true
		if err := br.header(); err != nil {
			return nil, err
		}
	}
	var cnt [2]byte
	if _, err := io.ReadFull(br.r, cnt[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errCopyEnd
		}
		return nil, badBinaryCopy("unexpected EOF in COPY data")
	}
	n := int16(binary.BigEndian.Uint16(cnt[:]))
	if n == -1 {
		return nil, errCopyEnd
	}
	br.row++
	if int(n) != len(br.types) {
		return nil, badBinaryCopy("row field count is %d, expected %d (row %d)", n, len(br.types), br.row)
	}
	out := make([]any, n)
	for i := range out {
		v, err := br.field(br.types[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (br *binaryCopyReader) field(oid pgval.OID) (any, error) {
	var l [4]byte
	if _, err := io.ReadFull(br.r, l[:]); err != nil {
		return nil, badBinaryCopy("unexpected EOF in COPY data")
	}
	size := int32(binary.BigEndian.Uint32(l[:]))
	if size == -1 {
		return nil, nil
	}
	if size < 0 || size > maxCopyFieldBytes {
		return nil, badBinaryCopy("invalid field size %d", size)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(br.r, buf); err != nil {
		return nil, badBinaryCopy("unexpected EOF in COPY data")
	}
	v, err := pgval.DecodeBinary(oid, buf)
	if err != nil {
		return nil, pgerr.From(err)
	}
	return v, nil
}

// appendBinaryCopyHeader and appendBinaryCopyRow write the binary format.
func appendBinaryCopyHeader(dst []byte) []byte {
	dst = append(dst, copySignature...)
	return append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
}

func appendBinaryCopyRow(dst []byte, vals []any, types []pgval.OID) ([]byte, error) {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(vals)))
	for i, v := range vals {
		if v == nil {
			dst = binary.BigEndian.AppendUint32(dst, 0xffffffff)
			continue
		}
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		var err error
		if dst, err = pgval.AppendBinary(dst, types[i], v); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	return dst, nil
}

func appendBinaryCopyTrailer(dst []byte) []byte { return append(dst, 0xff, 0xff) }
