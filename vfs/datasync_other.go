//go:build !linux

package vfs

import "os"

// datasync falls back to a full fsync where fdatasync is not available to
// us: stronger, never weaker.
func datasync(f *os.File) error { return f.Sync() }
