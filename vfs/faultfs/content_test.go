package faultfs

import (
	"bytes"
	"errors"
	"flag"
	"math/rand"
	"os"
	"testing"
	"time"
)

var contentSeed = flag.Int64("faultfs.seed", 0, "seed for TestContentMatchesFlatModel (0: time-based)")

// TestContentMatchesFlatModel drives the paged content and a plain byte
// slice with the same random writes (data, zeros, whole zero pages),
// truncates and bit flips around page boundaries, and requires identical
// bytes after every step.
func TestContentMatchesFlatModel(t *testing.T) {
	seed := *contentSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (replay with -faultfs.seed=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	var c content
	var flat []byte
	point := func() int64 { // offsets cluster around page boundaries
		p := int64(rng.Intn(6)) * pageBytes
		return max(0, p+int64(rng.Intn(200))-100)
	}
	for step := 0; step < 1000; step++ {
		switch k := rng.Intn(10); {
		case k < 4:
			off, n := point(), rng.Intn(3*pageBytes/2)
			b := make([]byte, n)
			rng.Read(b)
			if k == 3 {
				clear(b) // a zero write: must free or clear, never expose old bytes
			}
			c.writeAt(b, off)
			if end := off + int64(n); end > int64(len(flat)) {
				flat = append(flat, make([]byte, end-int64(len(flat)))...)
			}
			copy(flat[off:], b)
		case k < 6:
			off, n := point(), point()
			c.zeroAt(off, n)
			if end := off + n; end > int64(len(flat)) {
				flat = append(flat, make([]byte, end-int64(len(flat)))...)
			}
			clear(flat[off : off+n])
		case k < 8:
			size := point()
			c.truncate(size)
			if size <= int64(len(flat)) {
				flat = flat[:size:size]
			} else {
				flat = append(flat, make([]byte, size-int64(len(flat)))...)
			}
		case len(flat) > 0:
			off, bit := rng.Int63n(int64(len(flat))), uint(rng.Intn(8))
			c.flip(off, bit)
			flat[off] ^= 1 << bit
		}
		if got := c.bytes(); !bytes.Equal(got, flat) {
			t.Fatalf("seed %d step %d: paged content differs from the flat model (size %d vs %d)", seed, step, len(got), len(flat))
		}
		if cl := c.clone(); !bytes.Equal(cl.bytes(), flat) {
			t.Fatalf("seed %d step %d: clone differs", seed, step)
		}
	}
}

// TestZeroFillCostsNoPages: a 256 MiB zero-filled file allocates no page,
// and overwriting a record in it allocates one.
func TestZeroFillCostsNoPages(t *testing.T) {
	f := setup(t)
	h, err := f.Create("/d/big")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < 256<<20; off += int64(len(zeros)) {
		if _, err := h.WriteAt(zeros, off); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Sync(); err != nil {
		t.Fatal(err)
	}
	n := f.cur["/d/big"]
	if allocated(n.data)+allocated(n.durable) != 0 {
		t.Fatalf("zero fill allocated %d pages", allocated(n.data)+allocated(n.durable))
	}
	if _, err := h.WriteAt([]byte("record"), 100<<20); err != nil {
		t.Fatal(err)
	}
	if err := h.Datasync(); err != nil {
		t.Fatal(err)
	}
	if allocated(n.data) != 1 || allocated(n.durable) != 1 {
		t.Fatalf("one record allocated %d/%d pages", allocated(n.data), allocated(n.durable))
	}
	if st, _ := f.Stat("/d/big"); st.Size() != 256<<20 {
		t.Fatalf("size %d", st.Size())
	}
}

func allocated(c content) int {
	k := 0
	for _, p := range c.pages {
		if p != nil {
			k++
		}
	}
	return k
}

// TestDatasyncIsSyncForDurability: Datasync makes data and size durable
// exactly like Sync, is counted separately, and has its own fault Op.
func TestDatasyncIsSyncForDurability(t *testing.T) {
	f := setup(t)
	mustWriteFile(t, f, "/d/a", []byte("0123456789"), true)
	if err := f.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	h, err := f.OpenFile("/d/a", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.WriteAt([]byte("AB"), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := h.WriteAt([]byte("tail"), 10); err != nil { // grows the file
		t.Fatal(err)
	}
	// A fault on OpSync does not touch Datasync, and vice versa.
	f.Inject(Fault{Op: OpSync})
	if err := h.Datasync(); err != nil {
		t.Fatalf("Datasync hit a Sync fault: %v", err)
	}
	f.ClearFaults()
	f.Crash()
	if got, _ := f.ReadFile("/d/a"); string(got) != "01AB456789tail" {
		t.Fatalf("after Datasync and crash: %q", got)
	}
	h, err = f.OpenFile("/d/a", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.WriteAt([]byte("zz"), 0); err != nil {
		t.Fatal(err)
	}
	f.Inject(Fault{Op: OpDatasync})
	if err := h.Datasync(); !errors.Is(err, ErrInjected) {
		t.Fatalf("injected Datasync fault: %v", err)
	}
	f.Crash()
	if got, _ := f.ReadFile("/d/a"); string(got) != "01AB456789tail" {
		t.Fatalf("a failed Datasync made data durable: %q", got)
	}
	if f.Calls(OpDatasync) != 2 || f.Calls(OpSync) != 1 {
		t.Fatalf("calls: datasync %d sync %d", f.Calls(OpDatasync), f.Calls(OpSync))
	}
}

// TestSyncAppliesPendingInOrder: the durable contents after Sync equal the
// visible ones, whatever mix of writes and truncates preceded it.
func TestSyncAppliesPendingInOrder(t *testing.T) {
	f := setup(t)
	h, err := f.Create("/d/a")
	if err != nil {
		t.Fatal(err)
	}
	ops := []func(){
		func() { _, _ = h.WriteAt(bytes.Repeat([]byte{7}, 3*pageBytes), 0) },
		func() { _ = h.Truncate(pageBytes + 5) },
		func() { _, _ = h.WriteAt(make([]byte, pageBytes), 10) },
		func() { _ = h.Truncate(3 * pageBytes) },
		func() { _, _ = h.WriteAt([]byte{9}, 2*pageBytes+1) },
	}
	for _, op := range ops {
		op()
	}
	if err := h.Sync(); err != nil {
		t.Fatal(err)
	}
	n := f.cur["/d/a"]
	if !bytes.Equal(n.data.bytes(), n.durable.bytes()) {
		t.Fatal("durable differs from visible after Sync")
	}
	// 7s truncated to pageBytes+5, then zeros over 10..pageBytes+9: only
	// bytes 0..9 keep their 7; the rest is zero but for the final 9.
	want := make([]byte, 3*pageBytes)
	copy(want, bytes.Repeat([]byte{7}, 10))
	want[2*pageBytes+1] = 9
	if got := n.durable.bytes(); !bytes.Equal(got, want) {
		t.Fatal("durable contents wrong")
	}
}
