package wal

import (
	"bytes"
	"fmt"
	"testing"
)

const flipSegBytes = SegmentHeaderBytes + 4*(RecordHeaderBytes+20) + 30

// flipLog builds a small log: 7 records of 20 bytes, 4 per segment, so the
// second (last) segment holds 3 records. Preallocated, the first segment
// ends with 30 zero bytes and the last with 122.
func flipLog(t *testing.T, mode PreallocMode) (*fixture, []Record) {
	t.Helper()
	fs := newFaultFS(t, 31)
	l := mustOpenMode(t, fs, flipSegBytes, mode)
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
	return &fixture{fs: fs, mode: mode, segBytes: flipSegBytes, segs: res.segs}, recs
}

// TestBitFlipAtEveryOffset flips one bit at every byte offset of every
// segment file, in both formats, and asserts the exact classification: a
// flip inside the last record of the last segment is a torn tail cut at that
// record; a flip in the zero tail of the last (preallocated) segment is a
// torn tail after the last record, which loses nothing; anything else is
// corruption located at the damaged record, at the end of a sealed
// segment's records for its zero tail, or at offset 0 for a header. Nothing
// is ever accepted silently.
func TestBitFlipAtEveryOffset(t *testing.T) {
	for _, m := range []testMode{{"v1", PreallocOff}, {"v2", PreallocBackground}} {
		t.Run(m.name, func(t *testing.T) { bitFlipAtEveryOffset(t, m.mode) })
	}
}

func bitFlipAtEveryOffset(t *testing.T, mode PreallocMode) {
	base, _ := flipLog(t, mode)
	cases := 0
	for si, s := range base.segs {
		for off := int64(0); off < s.fileSize; off++ {
			for _, bit := range []uint{uint(off % 8), uint((off + 3) % 8)} {
				f, recs := flipLog(t, mode)
				if err := f.fs.FlipBit(s.path, off, bit); err != nil {
					t.Fatal(err)
				}
				want := flipExpectation(f, si, off)
				t.Run(fmt.Sprintf("seg%d/off%d/bit%d", si, off, bit), func(t *testing.T) {
					checkDecision(t, f, want)
					if want.status == TornTail {
						l := mustOpenMode(t, f.fs, flipSegBytes, mode)
						got := readAll(t, l)
						_ = l.Close()
						if uint64(len(got)) != want.lastAfter(f) {
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
	last := si == len(f.segs)-1
	if off >= s.size { // the zero tail of a preallocated segment
		end, next := s.size, s.next()
		e := expect{status: Corrupt, file: file, offset: func(*fixture) int64 { return end },
			index: func(*fixture) uint64 { return next }, otherRecords: true}
		if last {
			e.status, e.lastAfter = TornTail, func(*fixture) uint64 { return next - 1 }
		}
		return e
	}
	k := len(s.offs) - 1
	for s.offs[k] > off {
		k--
	}
	recOff, index := s.offs[k], s.hdr.First+uint64(k)
	e := expect{status: Corrupt, file: file, offset: func(*fixture) int64 { return recOff },
		index: func(*fixture) uint64 { return index }}
	e.otherRecords = true
	if last && k == len(s.offs)-1 {
		e.status = TornTail
		e.lastAfter = func(*fixture) uint64 { return index - 1 }
	}
	return e
}
