package wal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/vfs"
)

// Environment switches of the kill -9 test.
const (
	envKillChild  = "CHR2_WAL_KILL9_CHILD_DIR" // set: this process is the child appender
	envKillRounds = "CHR2_WAL_KILL9_ROUNDS"    // number of kill rounds (default 20)
	envKillSeed   = "CHR2_WAL_KILL9_SEED"      // replay a seed
	envChildSeed  = "CHR2_WAL_KILL9_CHILD_SEED"
	envChildMode  = "CHR2_WAL_KILL9_CHILD_MODE" // PreallocMode of the child
)

// killMode is the segment layout of a round: mostly preallocated with the
// background preparer, so a kill often lands in the middle of a spare being
// filled or published, and now and then the other modes, so one directory
// holds a mix of version-1 and version-2 segments.
func killMode(round int) PreallocMode {
	return [...]PreallocMode{PreallocBackground, PreallocOff, PreallocBackground, PreallocInline}[round%4]
}

const (
	killSegBytes   = 256 << 10
	childWriters   = 8
	childLifetime  = 60 * time.Second
	roundDeadline  = 60 * time.Second
	defaultRounds  = 20
	childKeepAfter = 3000 // child compacts to keep about this many records
)

func crashTerm(i uint64) uint64 { return 1 + i/5000 }

// crashData is the deterministic payload of index i: 64 B to ~6 KiB.
func crashData(i uint64) []byte {
	n := 64 + int(i*7919%6000)
	seed := sha256.Sum256(binary.BigEndian.AppendUint64(nil, i))
	return bytes.Repeat(seed[:], n/32+1)[:n]
}

// TestKill9Crash re-executes this test binary as a child that appends under
// load from several goroutines and prints every acknowledged index; the
// parent kill -9s it at seeded random points and checks after each kill that
// recovery keeps every acknowledged record with a verified chain.
func TestKill9Crash(t *testing.T) {
	if dir := os.Getenv(envKillChild); dir != "" {
		runKillChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes; skipped in -short mode")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv(envKillSeed); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("bad %s: %v", envKillSeed, err)
		}
	}
	rounds := defaultRounds
	if s := os.Getenv(envKillRounds); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("bad %s: %q", envKillRounds, s)
		}
		rounds = n
	}
	t.Logf("seed %d (replay with %s=%d), %d rounds", seed, envKillSeed, seed, rounds)
	rng := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	total := 0
	for round := 0; round < rounds; round++ {
		acks := killRound(t, seed, round, dir, rng)
		total += acks
		checkAfterKill(t, seed, round, dir)
	}
	t.Logf("%d rounds, %d acknowledged appends, every one recovered", rounds, total)
}

// killRound runs one child and kills it after a random number of acks plus
// a random delay. It returns the number of acks seen and checks they survive.
func killRound(t *testing.T, seed int64, round int, dir string, rng *rand.Rand) int {
	t.Helper()
	target := 1 + rng.Intn(400)
	delay := time.Duration(rng.Intn(3000)) * time.Microsecond
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Crash$", "-test.count=1")
	cmd.Env = append(os.Environ(), envKillChild+"="+dir, fmt.Sprintf("%s=%d", envChildSeed, seed+int64(round)),
		fmt.Sprintf("%s=%d", envChildMode, killMode(round)))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var maxAck uint64
	acks := 0
	reached := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "ack "); ok {
				n, _ := strconv.ParseUint(v, 10, 64)
				mu.Lock()
				maxAck = max(maxAck, n)
				acks++
				if acks == target {
					close(reached)
				}
				mu.Unlock()
			}
		}
	}()
	select {
	case <-reached:
	case <-readerDone:
		_ = cmd.Wait()
		t.Fatalf("seed %d round %d: child exited early: %s", seed, round, stderr.String())
	case <-time.After(roundDeadline):
		_ = cmd.Process.Kill()
		t.Fatalf("seed %d round %d: child made no progress: %s", seed, round, stderr.String())
	}
	time.Sleep(delay) // a kill point, not a wait for a condition
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-readerDone
	_ = cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	r, err := Verify(vfs.OS, dir)
	if err != nil || r.Status == Corrupt {
		t.Fatalf("seed %d round %d: Verify right after kill -9: %v %v", seed, round, r, err)
	}
	if r.Status == TornTail {
		t.Logf("round %d (%v): torn tail before recovery: %v", round, killMode(round), r.Err)
	}
	l, err := Open(Options{Dir: dir, FS: vfs.OS, SegmentBytes: killSegBytes, Preallocate: killMode(round)})
	if err != nil {
		t.Fatalf("seed %d round %d: Open after kill -9: %v", seed, round, err)
	}
	defer l.Close()
	if l.LastIndex() < maxAck {
		t.Fatalf("seed %d round %d: acknowledged index %d lost: LastIndex %d", seed, round, maxAck, l.LastIndex())
	}
	return acks
}

// checkAfterKill verifies every retained record (payload, term, chain) and
// that the directory verifies as Intact after recovery.
func checkAfterKill(t *testing.T, seed int64, round int, dir string) {
	t.Helper()
	l, err := Open(Options{Dir: dir, FS: vfs.OS, SegmentBytes: killSegBytes, Preallocate: killMode(round + 1)})
	if err != nil {
		t.Fatalf("seed %d round %d: reopen: %v", seed, round, err)
	}
	next := l.FirstIndex()
	err = l.ReadFrom(next, func(r Record) error {
		if r.Index != next || r.Term != crashTerm(r.Index) || !bytes.Equal(r.Data, crashData(r.Index)) {
			return fmt.Errorf("record %d differs", r.Index)
		}
		next++
		return nil
	})
	if err != nil || next != l.LastIndex()+1 {
		t.Fatalf("seed %d round %d: read back: %v (next %d, last %d)", seed, round, err, next, l.LastIndex())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := Verify(vfs.OS, dir); err != nil || r.Status != Intact {
		t.Fatalf("seed %d round %d: Verify after recovery: %v %v", seed, round, r, err)
	}
}

// runKillChild appends until killed. Writers pick indexes under a lock, write
// with AppendAsync, and wait outside it, so they share fsyncs. Each ack line
// is printed only after Wait returned. A maintenance loop compacts and, now
// and then, resets the log to its own head (as after a snapshot).
func runKillChild(dir string) {
	seed, _ := strconv.ParseInt(os.Getenv(envChildSeed), 10, 64)
	mode, _ := strconv.Atoi(os.Getenv(envChildMode))
	l, err := Open(Options{Dir: dir, FS: vfs.OS, SegmentBytes: killSegBytes, Preallocate: PreallocMode(mode)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	var mu sync.Mutex // orders index choice with the write phase
	next := l.LastIndex() + 1
	var outMu sync.Mutex
	out := io.Writer(os.Stdout)
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", what, err)
		os.Exit(3)
	}
	for w := 0; w < childWriters; w++ {
		go func(w int) {
			rng := rand.New(rand.NewSource(seed*31 + int64(w)))
			for {
				mu.Lock()
				n := uint64(1 + rng.Intn(4))
				recs := make([]Record, n)
				for k := range recs {
					i := next + uint64(k)
					recs[k] = Record{Index: i, Term: crashTerm(i), Type: uint8(i % 3), BlockTime: int64(i), Data: crashData(i)}
				}
				p, err := l.AppendAsync(recs)
				next += n
				mu.Unlock()
				if err == nil {
					err = p.Wait()
				}
				if err != nil {
					fail("append", err)
				}
				outMu.Lock()
				fmt.Fprintf(out, "ack %d\n", recs[n-1].Index)
				outMu.Unlock()
			}
		}(w)
	}
	rng := rand.New(rand.NewSource(seed))
	deadline := time.Now().Add(childLifetime)
	for time.Now().Before(deadline) {
		time.Sleep(time.Duration(5+rng.Intn(20)) * time.Millisecond)
		last := l.LastIndex()
		if last > childKeepAfter {
			if err := l.CompactPrefix(last - childKeepAfter); err != nil {
				fail("compact", err)
			}
		}
		if rng.Intn(10) == 0 {
			childReset(l, &mu, &next, fail)
		}
	}
	os.Exit(0)
}

// childReset stops index allocation, waits for in-flight appends to become
// durable, and resets the log to its own head with the true chain hash.
func childReset(l *Log, mu *sync.Mutex, next *uint64, fail func(string, error)) {
	mu.Lock()
	defer mu.Unlock()
	last := *next - 1
	deadline := time.Now().Add(10 * time.Second)
	for l.LastIndex() < last {
		if time.Now().After(deadline) {
			fail("reset", fmt.Errorf("appends up to %d never became durable", last))
		}
		time.Sleep(100 * time.Microsecond)
	}
	h, err := l.ChainHash(last)
	if err != nil {
		fail("chain hash", err)
	}
	term, err := l.Term(last)
	if err != nil {
		fail("term", err)
	}
	if err := l.Reset(last, term, h); err != nil {
		fail("reset", err)
	}
}
