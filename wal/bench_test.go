package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chr2sql/chr2sql/vfs"
)

// Benchmarks run on a real directory: CHR2_BENCH_DIR if set, else the test
// temp dir. Compare BenchmarkAppend's appends/s against BenchmarkRawFsync's
// fsyncs/s from the same run (see docs/wal.md).
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

// BenchmarkAppend: one 4 KiB record per Append, from 1, 8 and 64 concurrent
// writers; each Append returns only after its fsync.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			l, err := Open(Options{Dir: filepath.Join(benchDir(b), "wal")})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			data := make([]byte, benchRecordBytes)
			var mu sync.Mutex
			next := uint64(1)
			var wg sync.WaitGroup
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
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			if st := l.Stats(); st.FsyncRounds > 0 {
				b.ReportMetric(float64(st.Records)/float64(st.FsyncRounds), "records/fsync")
			}
		})
	}
}
