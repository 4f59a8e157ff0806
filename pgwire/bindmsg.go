package pgwire

import "encoding/binary"

// bindMsg is a Bind message decoded in place: names and parameter values
// alias the frame buffer and the slices are reused, so the most frequent
// extended-protocol message costs no allocation to decode. It is valid
// until the next frame is read.
type bindMsg struct {
	portal, stmt  []byte
	paramFormats  []int16
	params        [][]byte // nil entry = SQL NULL
	resultFormats []int16
}

// decode parses src (the body after type and length); false means the
// message is malformed.
func (m *bindMsg) decode(src []byte) bool {
	var ok bool
	if m.portal, src, ok = cstring(src); !ok {
		return false
	}
	if m.stmt, src, ok = cstring(src); !ok {
		return false
	}
	if m.paramFormats, src, ok = int16List(m.paramFormats[:0], src); !ok {
		return false
	}
	if len(src) < 2 {
		return false
	}
	n := int(binary.BigEndian.Uint16(src))
	src = src[2:]
	m.params = m.params[:0]
	for i := 0; i < n; i++ {
		if len(src) < 4 {
			return false
		}
		l := int32(binary.BigEndian.Uint32(src)) //nolint:gosec // sign reinterpretation: -1 is NULL
		src = src[4:]
		if l == -1 {
			m.params = append(m.params, nil)
			continue
		}
		if l < 0 || int(l) > len(src) {
			return false
		}
		m.params = append(m.params, src[:l:l])
		src = src[l:]
	}
	if m.resultFormats, src, ok = int16List(m.resultFormats[:0], src); !ok {
		return false
	}
	return len(src) == 0
}

func cstring(src []byte) ([]byte, []byte, bool) {
	for i, c := range src {
		if c == 0 {
			return src[:i], src[i+1:], true
		}
	}
	return nil, nil, false
}

func int16List(dst []int16, src []byte) ([]int16, []byte, bool) {
	if len(src) < 2 {
		return dst, nil, false
	}
	n := int(binary.BigEndian.Uint16(src))
	src = src[2:]
	if len(src) < 2*n {
		return dst, nil, false
	}
	for i := 0; i < n; i++ {
		dst = append(dst, int16(binary.BigEndian.Uint16(src[2*i:]))) //nolint:gosec // wire format is int16
	}
	return dst, src[2*n:], true
}
