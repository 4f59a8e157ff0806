// Package vfs is the file-system seam under the strict WAL (package wal) and
// the fencing manifest (package fence).
//
// It owns exactly the operations those packages need and nothing more, so a
// test can substitute an in-memory file system that models what survives a
// power loss (package vfs/faultfs, test-only).
//
// Contract of an FS implementation:
//
//  1. File.Sync makes the file's data and size durable. Until it returns
//     nil, nothing written to the file is promised to survive a crash. A
//     failed Sync promises nothing about any earlier write either: callers
//     must treat it as fatal and never retry (a retried fsync can report
//     success for pages the kernel already dropped).
//  2. File.Datasync (fdatasync) gives the same promise for the file's data
//     and size, and the same failure rule; it may leave metadata that
//     reading the data does not need (timestamps) unsynced. That is what
//     makes it cheaper than Sync when overwriting already-allocated blocks
//     in place: no journal commit for the inode. Where the platform has no
//     fdatasync, OS falls back to fsync.
//  3. A directory entry (a created, renamed or removed name) is durable only
//     after SyncDir of the directory that holds it returned nil. Callers
//     that rely on a name surviving a crash call SyncDir themselves; they do
//     not rely on any implementation doing it for them.
//  4. Rename replaces the target atomically: a reader sees the old or the new
//     file, never a mix. Directories cannot be renamed through this seam.
//  5. Errors for missing files satisfy errors.Is(err, fs.ErrNotExist).
//  6. ReadDir returns the names directly inside a directory, sorted.
//
// OS is the real implementation on the operating system's files. Beyond the
// contract above, OS also fsyncs the parent directory after Create, Rename and
// Remove (and after OpenFile when it created the file), so that a caller that
// forgets SyncDir is still safe on real disks; wal and fence nevertheless call
// SyncDir explicitly, because that is what faultfs checks.
package vfs
