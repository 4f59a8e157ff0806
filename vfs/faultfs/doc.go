// Package faultfs is a TEST-ONLY in-memory vfs.FS that models durability and
// injects faults. It must never be used outside tests.
//
// Durability model (deliberately the strictest reading of POSIX):
//
//  1. Every file has visible contents and durable contents. Write, WriteAt
//     and Truncate change the visible contents and are remembered as pending
//     operations; File.Sync applies them to the durable contents and forgets
//     them. File.Datasync is modelled exactly like Sync (data and size become
//     durable); it is a separate Op only for fault injection and counting
//     (Calls), so tests can tell which one a caller used.
//  2. The namespace (which path names which file or directory) also has a
//     visible and a durable version. Create, Rename, Remove and MkdirAll
//     change the visible version; SyncDir(d) copies the entries directly in d
//     to the durable version. A file whose name never reached the durable
//     namespace is lost on a crash even if its data was fsynced; an entry
//     whose parent directory is not durable is lost too.
//  3. Crash forgets everything not durable: each file reverts to its durable
//     contents and the namespace to its durable version. CrashTorn does the
//     same but lets a prefix of each file's pending operations survive, the
//     last one possibly torn (a random prefix of its bytes, kept as written,
//     as zeros, or as garbage). Both invalidate every open handle.
//  4. Injected faults (Inject) make chosen operations fail: a write error, a
//     short write (half the bytes land, then an error), a failed fsync (nothing
//     becomes durable), failed rename/remove/create/syncdir/truncate.
//  5. CrashAfter(n) lets n more mutating operations happen and then makes every
//     later operation fail with ErrCrashed without effect, modelling a process
//     that died between two steps. Crash or CrashTorn revive the FS.
//  6. FlipBit flips one bit in both the visible and the durable contents
//     (media corruption that survives a crash).
//
// Contents are stored in 4 KiB pages and a page never written with a
// non-zero byte is not allocated, so zero-filled (preallocated) files of tens
// of MiB cost almost no memory and Sync costs the size of the pending writes,
// not of the file.
//
// Every random choice comes from the seed given to New, so a failing test
// replays exactly.
package faultfs
