package wal

import (
	"errors"
	"fmt"
	"testing"

	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

const stepsSegBytes = 1024

// stepsCase is a segment layout for crashEveryStep: a mode, optionally with
// TruncateSuffix forced onto its truncate-and-refill path.
type stepsCase struct {
	name   string
	mode   PreallocMode
	refill bool
}

var stepsCases = []stepsCase{
	{"spare", PreallocBackground, false},
	{"inline", PreallocInline, false},
	{"off", PreallocOff, false},
}

// crashEveryStep runs op on a fresh 80-record log once per mutating file
// system step, killing the "process" right before that step, crashing the
// file system (losing or tearing everything not durable) and checking the
// recovered log with check. completed tells check whether op returned
// before the crash point. The loop ends when op completes untouched. Each
// layout of cases runs separately.
func crashEveryStep(t *testing.T, name string, cases []stepsCase, op func(*Log) error, check func(t *testing.T, l *Log, completed bool)) {
	for _, c := range cases {
		crashEveryStepIn(t, name+"/"+c.name, c, op, check)
	}
}

func crashEveryStepIn(t *testing.T, name string, c stepsCase, op func(*Log) error, check func(t *testing.T, l *Log, completed bool)) {
	for step := 0; ; step++ {
		finished := false
		for _, torn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/step%d/torn=%v", name, step, torn), func(t *testing.T) {
				fs := newFaultFS(t, int64(step))
				l := mustOpenMode(t, fs, stepsSegBytes, c.mode)
				if c.refill {
					l.maxZeroInPlace = 0
				}
				appendN(t, l, 80, 3)
				fs.CrashAfter(step)
				err := op(l)
				completed := !fs.Dead()
				if completed && err != nil {
					t.Fatalf("op failed without a crash: %v", err)
				}
				if !completed && err == nil {
					t.Fatal("op reported success although a step failed")
				}
				if !completed && !errors.Is(err, faultfs.ErrCrashed) {
					t.Fatalf("op error does not carry the cause: %v", err)
				}
				finished = completed
				if torn {
					fs.CrashTorn()
				} else {
					fs.Crash()
				}
				if r, err := Verify(fs, testDir); err != nil || r.Status == Corrupt {
					t.Fatalf("after crash: %v %v", r, err)
				}
				l2, err := Open(testOpts(fs, stepsSegBytes, c.mode))
				if err != nil {
					t.Fatalf("Open after crash at step %d: %v", step, err)
				}
				defer l2.Close()
				check(t, l2, completed)
			})
		}
		if finished {
			t.Logf("%s: %d crash points checked", name, step+1)
			return
		}
		if step > 500 {
			t.Fatal("operation never completes")
		}
	}
}

func TestCrashDuringTruncateSuffix(t *testing.T) {
	for _, from := range []uint64{1, 30, 41, 80} {
		cases := append(stepsCases, stepsCase{"refill", PreallocBackground, true})
		crashEveryStep(t, fmt.Sprintf("from%d", from), cases, func(l *Log) error { return l.TruncateSuffix(from) },
			func(t *testing.T, l *Log, completed bool) {
				last := l.LastIndex()
				if last < from-1 || last > 80 || (completed && last != from-1) {
					t.Fatalf("LastIndex %d (completed=%v)", last, completed)
				}
				checkContents(t, l, 1, last) // always a prefix of the old log
				if err := l.Append(mkRecs(last+1, 2)); err != nil {
					t.Fatal(err)
				}
			})
	}
}

func TestCrashDuringCompactPrefix(t *testing.T) {
	crashEveryStep(t, "compact", stepsCases, func(l *Log) error { return l.CompactPrefix(60) },
		func(t *testing.T, l *Log, completed bool) {
			first := l.FirstIndex()
			if first > 61 || (completed && first == 1) {
				t.Fatalf("FirstIndex %d (completed=%v)", first, completed)
			}
			checkContents(t, l, first, 80)
			if h, err := l.ChainHash(first - 1); err != nil || h != expectedHash([32]byte{}, 1, first-1) {
				t.Fatalf("base hash after compaction crash: %v", err)
			}
		})
}

func TestCrashDuringReset(t *testing.T) {
	base := [32]byte{9, 9, 9}
	crashEveryStep(t, "reset", stepsCases, func(l *Log) error { return l.Reset(1000, 40, base) },
		func(t *testing.T, l *Log, completed bool) {
			if l.LastIndex() == 1000 {
				if l.FirstIndex() != 1001 || l.LastTerm() != 40 {
					t.Fatalf("new state incomplete: first %d term %d", l.FirstIndex(), l.LastTerm())
				}
				if h, err := l.ChainHash(1000); err != nil || h != base {
					t.Fatalf("base hash: %v", err)
				}
				return
			}
			if completed {
				t.Fatalf("completed Reset lost: last %d", l.LastIndex())
			}
			checkContents(t, l, 1, 80)
		})
}

func TestCrashDuringAppendWithRollover(t *testing.T) {
	crashEveryStep(t, "append", stepsCases, func(l *Log) error { return l.Append(mkRecs(81, 12)) },
		func(t *testing.T, l *Log, completed bool) {
			last := l.LastIndex()
			if last < 80 || last > 92 || (completed && last != 92) {
				t.Fatalf("LastIndex %d (completed=%v)", last, completed)
			}
			checkContents(t, l, 1, last)
		})
}

// TestCrashDuringRecovery: Open's own repairs (removing leftovers, cutting a
// torn tail) are themselves crash-safe.
func TestCrashDuringRecovery(t *testing.T) {
	for _, m := range testModes {
		t.Run(m.name, func(t *testing.T) { crashDuringRecovery(t, m.mode) })
	}
}

func crashDuringRecovery(t *testing.T, mode PreallocMode) {
	for step := 0; step < 200; step++ {
		f := newFixture(t, mode)
		// An interrupted Reset leftover, a tmp file and a torn tail at once
		// cannot coexist after one crash; use tmp + torn tail.
		f.write(t, testDir+"/"+segmentName(99, 61)+tmpSuffix, []byte("partial"))
		torn := appendRecord(nil, &mkRecs(61, 1)[0], expectedHash([32]byte{}, 1, 61))[:100]
		f.edit(t, f.last().path, func(b []byte) []byte { return putAt(b, f.last().size, torn) })
		f.fs.CrashAfter(step)
		l, err := Open(f.opts())
		done := !f.fs.Dead()
		if done {
			if err != nil {
				t.Fatal(err)
			}
			_ = l.Close()
		}
		f.fs.CrashTorn()
		l = mustOpenMode(t, f.fs, fixtureSegBytes, mode)
		checkContents(t, l, 1, 60)
		_ = l.Close()
		mustVerify(t, f.fs, Intact)
		if done {
			t.Logf("%d crash points checked", step+1)
			return
		}
	}
	t.Fatal("recovery never completes")
}
