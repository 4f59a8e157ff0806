package wal

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/vfs"
)

// Benchmarks run on a real directory: CHR2_BENCH_DIR if set, else the test
// temp dir. Compare BenchmarkAppend's appends/s against the two yardsticks
// from the same run: BenchmarkRawFsync (append to a growing file + fsync,
// what every commit cost before preallocation) and
// BenchmarkRawPreallocDatasync (overwrite a zero-filled file + fdatasync,
// the floor for a preallocated WAL). See docs/wal.md.
const benchRecordBytes = 4 << 10

func benchDir(b *testing.B) string {
	if d := os.Getenv("CHR2_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "walbench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// BenchmarkRawFsync is the yardstick: append 4 KiB to a file and fsync it,
// one at a time, on the same disk.
func BenchmarkRawFsync(b *testing.B) {
	f, err := vfs.OS.Create(filepath.Join(benchDir(b), "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, benchRecordBytes)
	b.SetBytes(benchRecordBytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fsyncs/s")
}

// BenchmarkRawPreallocDatasync is the second yardstick: overwrite 4 KiB at
// a time in a file zero-filled (and fsynced) to the default segment size
// beforehand, fdatasync after each write, one at a time.
func BenchmarkRawPreallocDatasync(b *testing.B) {
	f, err := vfs.OS.Create(filepath.Join(benchDir(b), "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := writeZeros(f, 0, DefaultSegmentBytes, nil); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, benchRecordBytes)
	for i := range buf {
		buf[i] = byte(i)
	}
	b.SetBytes(benchRecordBytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		off := int64(i) * benchRecordBytes % DefaultSegmentBytes
		if _, err := f.WriteAt(buf, off); err != nil {
			b.Fatal(err)
		}
		if err := f.Datasync(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fdatasyncs/s")
}

// BenchmarkAppend: one 4 KiB record per Append, from 1, 8 and 64 concurrent
// writers; each Append returns only after its sync. prealloc=off is the
// layout before preallocation (segments that grow); prealloc=background is
// the default.
func BenchmarkAppend(b *testing.B) {
	for _, mode := range []PreallocMode{PreallocOff, PreallocBackground} {
		for _, writers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("prealloc=%v/writers=%d", mode, writers), func(b *testing.B) {
				benchAppend(b, mode, writers)
			})
		}
	}
}

func benchAppend(b *testing.B, mode PreallocMode, writers int) {
	l, err := Open(Options{Dir: filepath.Join(benchDir(b), "wal"), Preallocate: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	data := make([]byte, benchRecordBytes)
	var mu sync.Mutex
	next := uint64(1)
	var wg sync.WaitGroup
	lat := make([][]time.Duration, writers) // per writer: no shared slice on the hot path
	work := make(chan struct{}, b.N)
	for i := 0; i < b.N; i++ {
		work <- struct{}{}
	}
	close(work)
	b.SetBytes(benchRecordBytes)
	b.ResetTimer()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				start := time.Now()
				mu.Lock()
				p, err := l.AppendAsync([]Record{{Index: next, Term: 1, Data: data}})
				next++
				mu.Unlock()
				if err == nil {
					err = p.Wait()
				}
				if err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(start))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
		b.ReportMetric(float64(all[len(all)-1].Microseconds()), "max-µs")
	}
	if st := l.Stats(); st.FsyncRounds > 0 {
		b.ReportMetric(float64(st.Records)/float64(st.FsyncRounds), "records/fsync")
	}
}

// BenchmarkScanTornPreallocated measures recovery's scan of a full-size
// preallocated last segment (CPU only, no disk): 1,000 records, then 64 KiB
// of random bytes (a torn batch), then zeros to 64 MiB. The search for a
// plausible record after the torn one crosses every offset of the torn
// bytes and the whole zero tail.
func BenchmarkScanTornPreallocated(b *testing.B) {
	h := segmentHeader{Version: segmentVersion2, Flags: flagBase, Seq: 1, First: 1}
	seg := make([]byte, DefaultSegmentBytes)
	copy(seg, h.encode())
	off, hash := int64(SegmentHeaderBytes), [32]byte{}
	for _, r := range mkRecs(1, 1000) {
		hash = chainHash(hash, &r)
		off += int64(copy(seg[off:], appendRecord(nil, &r, hash)))
	}
	rng := rand.New(rand.NewSource(1))
	rng.Read(seg[off : off+64<<10])
	b.SetBytes(DefaultSegmentBytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, torn, cerr := scanRecords("seg", seg, h, 0, [32]byte{}, true, nil)
		if cerr != nil || torn == nil || len(s.offs) != 1000 {
			b.Fatalf("scan: %v %v", torn, cerr)
		}
	}
}
