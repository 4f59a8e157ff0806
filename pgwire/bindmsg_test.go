package pgwire

import (
	"bytes"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// FuzzBindDecode checks the in-place Bind decoder against pgproto3's: what
// ours accepts pgproto3 accepts with the same fields, and what pgproto3
// rejects ours rejects (ours is stricter only about trailing bytes, as
// PostgreSQL's pq_getmsgend is).
func FuzzBindDecode(f *testing.F) {
	for _, b := range []*pgproto3.Bind{
		{},
		{DestinationPortal: "p", PreparedStatement: "s", ParameterFormatCodes: []int16{1},
			Parameters: [][]byte{{0, 0, 0, 1}, nil, {}}, ResultFormatCodes: []int16{0, 1}},
	} {
		enc, err := b.Encode(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc[5:])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var ours bindMsg
		var theirs pgproto3.Bind
		okOurs := ours.decode(body)
		errTheirs := theirs.Decode(body)
		if errTheirs != nil && okOurs {
			t.Fatalf("ours accepted what pgproto3 rejects (%v): %x", errTheirs, body)
		}
		if !okOurs {
			return
		}
		if string(ours.portal) != theirs.DestinationPortal || string(ours.stmt) != theirs.PreparedStatement ||
			!slices.Equal(ours.paramFormats, theirs.ParameterFormatCodes) && len(ours.paramFormats)+len(theirs.ParameterFormatCodes) > 0 ||
			!slices.Equal(ours.resultFormats, theirs.ResultFormatCodes) && len(ours.resultFormats)+len(theirs.ResultFormatCodes) > 0 ||
			len(ours.params) != len(theirs.Parameters) {
			t.Fatalf("decoders disagree on %x", body)
		}
		for i := range ours.params {
			if (ours.params[i] == nil) != (theirs.Parameters[i] == nil) || !bytes.Equal(ours.params[i], theirs.Parameters[i]) {
				t.Fatalf("parameter %d differs on %x", i, body)
			}
		}
	})
}

func TestBindDecodeRejectsTrailingBytes(t *testing.T) {
	enc, _ := (&pgproto3.Bind{PreparedStatement: "s"}).Encode(nil)
	var m bindMsg
	if !m.decode(enc[5:]) {
		t.Fatal("valid Bind rejected")
	}
	if m.decode(append(enc[5:], 0)) {
		t.Fatal("trailing byte accepted")
	}
}
