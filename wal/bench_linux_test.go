//go:build linux

package wal

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkOverwriteAfterPrealloc is the measurement behind the choice of
// zero-filled segments: how a 64 MiB file gets its space, judged by the
// commit-path operation that follows, overwriting 4 KiB at a time in order +
// fdatasync.
//
//	sparse:    ftruncate to the size (a hole: every first write allocates)
//	fallocate: fallocate(2) (unwritten extents: every first write converts)
//	zerofill:  zero bytes written and fsynced (what wal does)
//
// Both sparse and fallocate turn the first write of each block into a
// metadata change that fdatasync must commit to the journal; zerofill pays
// once, off the commit path. fill-ms is that one-time cost per file.
func BenchmarkOverwriteAfterPrealloc(b *testing.B) {
	for _, mode := range []string{"sparse", "fallocate", "zerofill"} {
		b.Run(mode, func(b *testing.B) {
			dir := benchDir(b)
			buf := make([]byte, benchRecordBytes)
			for i := range buf {
				buf[i] = byte(i)
			}
			const perFile = DefaultSegmentBytes / benchRecordBytes
			var f *os.File
			var fill time.Duration
			fills := 0
			b.SetBytes(benchRecordBytes)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%perFile == 0 { // a fresh file: never measure blocks already written
					b.StopTimer()
					if f != nil {
						_ = f.Close()
					}
					var d time.Duration
					f, d = preallocFile(b, filepath.Join(dir, "seg"), mode)
					fill += d
					fills++
					b.StartTimer()
				}
				if _, err := f.WriteAt(buf, int64(i%perFile)*benchRecordBytes); err != nil {
					b.Fatal(err)
				}
				if err := syscall.Fdatasync(int(f.Fd())); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			_ = f.Close()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fdatasyncs/s")
			b.ReportMetric(float64(fill.Milliseconds())/float64(fills), "fill-ms")
		})
	}
}

func preallocFile(b *testing.B, path, mode string) (*os.File, time.Duration) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	switch mode {
	case "sparse":
		err = f.Truncate(DefaultSegmentBytes)
	case "fallocate":
		err = syscall.Fallocate(int(f.Fd()), 0, 0, DefaultSegmentBytes)
	case "zerofill":
		err = writeZeros(osFileAdapter{f}, 0, DefaultSegmentBytes, nil)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		b.Fatal(err)
	}
	return f, time.Since(start)
}

// osFileAdapter lets writeZeros (which takes a vfs.File) fill an *os.File.
type osFileAdapter struct{ *os.File }

func (a osFileAdapter) Datasync() error { return syscall.Fdatasync(int(a.Fd())) }
