package wal

import (
	"bytes"
	"fmt"
	"testing"
)

// flipLog builds a small log: 7 records of 20 bytes, 4 per segment, so the
// second (last) segment holds 3 records.
func flipLog(t *testing.T) (*fixture, []Record) {
	t.Helper()
	fs := newFaultFS(t, 31)
	const segBytes = SegmentHeaderBytes + 4*(RecordHeaderBytes+20)
	l := mustOpen(t, fs, segBytes)
	var recs []Record
	for i := uint64(1); i <= 7; i++ {
		recs = append(recs, Record{Index: i, Term: 1 + i/3, Type: uint8(i % 3), BlockTime: int64(i) * 7, Data: bytes.Repeat([]byte{byte(i)}, 20)})
	}
	for _, r := range recs {
		if err := l.Append([]Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	_ = l.Close()
	res, err := scanDir(fs, testDir, nil)
	if err != nil || res.corrupt != nil || len(res.segs) != 2 || len(res.segs[1].offs) != 3 {
		t.Fatalf("flip fixture: %v %v", err, res)
	}
	return &fixture{fs: fs, segs: res.segs}, recs
}

// TestBitFlipAtEveryOffset flips one bit at every byte offset of every
// segment and asserts the exact classification: a flip inside the last
// record of the last segment is a torn tail cut at that record; anything
// else is corruption located at the damaged record (or offset 0 for a
// header). Nothing is ever accepted silently.
func TestBitFlipAtEveryOffset(t *testing.T) {
	base, _ := flipLog(t)
	cases := 0
	for si, s := range base.segs {
		size := s.size
		for off := int64(0); off < size; off++ {
			for _, bit := range []uint{uint(off % 8), uint((off + 3) % 8)} {
				f, recs := flipLog(t)
				if err := f.fs.FlipBit(s.path, off, bit); err != nil {
					t.Fatal(err)
				}
				want := flipExpectation(f, si, off)
				t.Run(fmt.Sprintf("seg%d/off%d/bit%d", si, off, bit), func(t *testing.T) {
					checkDecision(t, f, want)
					if want.status == TornTail {
						l := mustOpen(t, f.fs, 0)
						got := readAll(t, l)
						_ = l.Close()
						if len(got) != 6 {
							t.Fatalf("after torn-tail recovery read %d records", len(got))
						}
						for i := range got {
							if got[i].Index != recs[i].Index || got[i].Term != recs[i].Term || !bytes.Equal(got[i].Data, recs[i].Data) {
								t.Fatalf("record %d differs after recovery", i+1)
							}
						}
					}
				})
				cases++
			}
		}
	}
	t.Logf("%d bit flips classified", cases)
}

func flipExpectation(f *fixture, si int, off int64) expect {
	s := f.segs[si]
	file := func(*fixture) string { return s.path }
	if off < SegmentHeaderBytes {
		return expect{status: Corrupt, file: file, offset: func(*fixture) int64 { return 0 },
			index: func(*fixture) uint64 { return s.hdr.First }}
	}
	k := len(s.offs) - 1
	for s.offs[k] > off {
		k--
	}
	recOff, index := s.offs[k], s.hdr.First+uint64(k)
	e := expect{status: Corrupt, file: file, offset: func(*fixture) int64 { return recOff },
		index: func(*fixture) uint64 { return index }}
	e.otherRecords = true
	if si == len(f.segs)-1 && k == len(s.offs)-1 {
		e.status = TornTail
		e.lastAfter = func(*fixture) uint64 { return index - 1 }
	}
	return e
}
