// Package wal is chr2sql's strict write-ahead log: the durable copy of the
// raft log (guarantees G1 and G5 in DESIGN.md).
//
// It owns the segment files under <data-dir>/wal, the record and segment
// byte formats, preallocation, group commit, recovery and verification. It
// knows nothing about raft beyond the storage contract: Type, BlockTime and
// Data are opaque.
//
// # Preallocation
//
// By default (Options.Preallocate = PreallocBackground) every segment is
// created zero-filled to SegmentBytes, with real zero bytes written and
// fsynced before its name appears. Appends then overwrite allocated,
// initialized blocks in place, so the group-commit sync is an fdatasync that
// commits no inode change (no size, no extent conversion): on ext4 it takes
// about half the time of append + fsync. Sparse files (ftruncate) and
// fallocate(2) were measured and rejected: their first write to each block is
// itself a metadata change that the fdatasync must journal
// (BenchmarkOverwriteAfterPrealloc, docs/wal.md). The 64 MiB zero fill stays
// off the commit path: once the last segment is half full, a goroutine
// prepares a zero-filled spare file, and the rollover only writes the header
// into it and renames it. PreallocInline fills on the rollover path instead;
// PreallocOff writes version-1 segments that grow. A log may mix versions.
//
// # Invariants
//
//   - Every record carries a CRC32C and its own chain hash; the chain links
//     every record to its predecessor back to the base (snapshot) hash.
//   - Indexes are contiguous and terms never decrease along the log.
//   - Only the last segment may hold a torn record; every other segment was
//     fsynced before its successor was created.
//   - A segment file name appears only with a complete, fsynced header (and,
//     for version 2, its zero fill fsynced too).
//   - In a version-2 segment every byte after the last record is zero, or
//     belongs to a single torn record in the last segment.
//   - The spare file is never part of the log: it is all zeros beyond its
//     first 80 bytes whenever it has its final name.
//   - A failed fsync or fdatasync (or any failed write, rename, remove or
//     truncate of a segment) poisons the Log: that call and every later one
//     fail with ErrPoisoned (and ErrFsyncFailed when a sync failed). Never
//     retried; the caller crashes.
//   - Recovery never skips damaged data: it either cuts a torn tail or
//     refuses the log with a *CorruptError naming file, offset and index.
//   - The same records give the same bytes and hashes on every node.
//
// # Byte formats (all integers little-endian)
//
// Segment file name: "<seq>-<first>.wal", both 16 lower-case hex digits, so
// lexical order is log order. seq grows by one per segment; first is the
// index of the segment's first record.
//
// Segment header, 80 bytes:
//
//	off len field
//	  0   8 magic "chr2wal\x00"
//	  8   4 format version: 1 (grows with each append: the file ends at the
//	        end of the last record, or inside a torn one) or 2 (preallocated:
//	        created zero-filled, records overwrite the zeros in place, and
//	        zeros from a record boundary to the end of the file are the clean
//	        end of the segment). Any other version is refused (R5), so a
//	        binary that only knows version 1 refuses a preallocated log
//	        rather than calling its zeros a torn tail.
//	 12   4 flags: bit 0 = base (starts a new log base: first segment or Reset)
//	 16   8 seq (equals the name)
//	 24   8 first index (equals the name)
//	 32   8 previous term: term of record first-1 (the base term)
//	 40  32 previous hash: chain hash of record first-1 (the base hash)
//	 72   4 reserved, zero
//	 76   4 CRC32C (Castagnoli) of bytes 0..75
//
// Record, 72-byte header then the payload, packed back to back after the
// segment header:
//
//	off len field
//	  0   4 data length n (at most MaxDataBytes)
//	  4   4 CRC32C of bytes 0..3 followed by bytes 8..72+n
//	  8   8 index
//	 16   8 term
//	 24   1 type (raft entry type, opaque)
//	 25   7 reserved, zero
//	 32   8 block time (int64 unix microseconds, opaque)
//	 40  32 chain hash of this record
//	 72   n data
//
// Chain: hash(i) = SHA-256(hash(i-1) || index || term || type || blocktime ||
// data) with index, term, blocktime as 8-byte and type as 1-byte
// little-endian integers. hash(base) is the zero hash for a new log and the
// hash given to Reset after a snapshot. Each record stores its own hash (not
// its predecessor's): verification recomputes it from the predecessor, and
// ChainHash(i) is a single read.
//
// A version-2 segment file is normally SegmentBytes long (the size when it
// was created; a record larger than the room left extends it, as in version
// 1). Between the last record and the end of the file there are only zeros,
// at least as many as fit no record (possibly none).
//
// Spare file "prealloc.spare": SegmentBytes zero bytes prepared ahead of
// time (written as "prealloc.spare.tmp", fsynced, renamed, directory
// fsynced). A rollover or Reset writes a segment header into its first 80
// bytes, fdatasyncs it and renames it to the segment name. Not part of the
// log; a stale header left by a crash before that rename is overwritten the
// next time the spare is used.
//
// # Recovery decision table (Open; Verify reports the same without acting)
//
//	row what recovery sees                                         decision
//	R1  no segment files                                            new log: create base segment 1 (Intact)
//	R2  a "*.wal.tmp" or "prealloc.spare.tmp" file                  interrupted segment or spare creation: remove
//	                                                                it (TornTail)
//	R3  segments older than the newest base-flagged segment         interrupted Reset: remove them (TornTail)
//	R4  a "*.wal" file whose name is not a segment name             Corrupt
//	R5  a segment header that is short, fails its CRC, has a wrong  Corrupt: headers are fsynced before the name
//	    magic, version, flag or reserved byte, or disagrees with    appears, so a bad header is never a torn write
//	    its file name
//	R6  a sequence gap between retained segments                    Corrupt (missing segment in the middle)
//	R7  a header's first index != previous segment's last + 1       Corrupt (index gap)
//	R8  a header's previous term/hash != previous segment's last    Corrupt (broken chain)
//	R9  in a non-last segment, a record that does not decode        Corrupt: sealed segments were fsynced whole
//	    (short header, short payload, oversize length, bad CRC);
//	    in version 2 that includes any non-zero byte after the
//	    last record
//	R10 a record whose CRC is valid but whose reserved bytes are    Corrupt
//	    not zero, index is not the expected one (gap, duplicate),
//	    term is below its predecessor's, or chain hash is wrong
//	R11 in the last segment, a record that does not decode, and a   Corrupt (mid-log damage, or a zero-filled
//	    plausible record (complete, zero reserved bytes, valid CRC) hole followed by data)
//	    starts at any later offset
//	R12 in the last segment, a record that does not decode, and     torn tail (TornTail). Version 1: truncate the
//	    only zeros or garbage follow (no plausible record); in      file at the record's offset, fsync. Version 2:
//	    version 2 this includes an all-zero record header with      overwrite the record's offset .. last non-zero
//	    a non-zero byte anywhere after it                           byte with zeros, fdatasync (the file keeps
//	                                                                its preallocated size). Then continue
//	R13 everything verifies; in a version-2 segment the records     Intact
//	    end at the first record boundary followed by only zeros
//	    to the end of the file (an all-zero record header and all
//	    zeros after it, or fewer zero bytes than a header, or none)
//	R14 a "prealloc.spare" file                                     not part of the log: Intact. Open keeps it
//	                                                                for the next rollover or Reset when its size
//	                                                                is SegmentBytes, else ignores it (the next
//	                                                                spare replaces it)
//
// Rows R2, R3 and R12 are the only repairs, and Open performs them only when
// no row reports corruption anywhere in the log.
//
// What the log cannot see by itself: segments missing at the very end or the
// very beginning look like a shorter log. The caller cross-checks LastIndex
// against the manifest's commit index and FirstIndex against its snapshot.
//
// Known fail-safe limits of R11: a disk that persists the pages of one
// unsynced write out of order, or a record payload that itself contains an
// encoded WAL record, can make a torn write look like corruption. The node
// then halts; it never accepts damaged data.
//
// A "plausible" record (R11) is a complete record whose 7 reserved bytes are
// zero and whose CRC is valid. Every record this package writes qualifies;
// testing the reserved bytes first keeps the search after a torn record in a
// 64 MiB preallocated segment linear (milliseconds) instead of a CRC over
// up to 64 MiB at one offset in 64.
//
// Version 2 cannot tell a record zeroed whole (by media damage) at the very
// end of the log from one never written: both are the clean end (R13), where
// version 1 reports the zeros as a torn tail. Either way recovery keeps the
// same records.
//
// # Durability steps
//
// Every sync of a segment file's contents is an fdatasync (vfs.File.Datasync:
// data and size durable, timestamps not); new files, truncations and
// directories get a full fsync. A failed fsync or fdatasync is fatal.
//
// Append (safe for concurrent callers):
//  1. Validate: indexes continue the last appended index, terms do not
//     decrease, sizes are within MaxDataBytes.
//  2. Encode with the chain hash; re-decode the encoded bytes (checksum,
//     offsets) right before writing.
//  3. Write at the end of the last record of the last segment (over zeros in
//     version 2). When the next record would make the segment exceed
//     SegmentBytes (and it already holds a record), roll over first:
//     fdatasync the current segment, then create the next one.
//  4. Wait for an fdatasync round that started after the write. A waiter
//     that finds no round in progress runs it for everyone (group commit),
//     after yielding once and waiting for appenders that entered before it to
//     finish their writes, so one sync covers them too.
//  5. Return. Readers (LastIndex, ReadFrom) see only synced records. If the
//     last segment is now at least half full and no spare exists, request
//     one (below).
//
// Segment creation (rollover, new log, Reset), when no spare is ready:
//  1. Write the header to "<name>.tmp", and for version 2 zero bytes up to
//     SegmentBytes; 2. fsync it; 3. rename to "<name>"; 4. fsync the
//     directory. Before 4 completes a crash leaves no segment or a leftover
//     .tmp (R2); after it, the segment exists with its header (and zeros).
//
// Segment creation from the spare (a rollover or Reset that finds one ready,
// or waits for one being prepared):
//  1. Write the header into the spare's first 80 bytes; 2. fdatasync it;
//  3. rename "prealloc.spare" to "<name>"; 4. fsync the directory. Before 3
//     is durable a crash leaves the spare (R14, its stale header harmless);
//     after it, a complete empty version-2 segment.
//
// Spare preparation (a goroutine, started on the first request; the request
// marks the spare as being prepared at once, so a rollover waits for it
// rather than filling a second file):
//  1. Write SegmentBytes zero bytes to "prealloc.spare.tmp", fdatasyncing
//     every 4 MiB so a concurrent commit never queues behind a 64 MiB
//     flush; 2. fsync it;
//  3. rename to "prealloc.spare"; 4. fsync the directory. A crash leaves the
//     .tmp (R2) or a complete spare (R14). A failed fsync poisons the Log;
//     other failures stop preparation until the next segment, whose rollover
//     then fills inline. Close cancels a preparation between writes and
//     removes its .tmp.
//
// TruncateSuffix(from), on a raft conflict:
//  1. Make every flushed write durable; read the new chain head (record
//     from-1) before destroying anything.
//  2. Remove segments that start after from, newest first, fsyncing the
//     directory after each removal.
//  3. Version 1: truncate the segment holding from at that record's offset;
//     fsync it. Version 2, at most 32 records to drop: overwrite them with
//     zeros one at a time, last first, fdatasync after each, so no crash
//     leaves zeros followed by a valid record (R11). Version 2, more: truncate
//     at the offset, fsync (the barrier: no zeros may land before the cut is
//     durable), then write zeros back up to the preallocated size and
//     fdatasync (a crash in between leaves a shorter zero tail, still clean).
//     A crash at any point leaves a prefix of the old log (never a gap); the
//     records not yet removed are uncommitted conflicting entries that the
//     leader will truncate again.
//
// CompactPrefix(through):
//  1. Remove the oldest segment if its records are all <= through and it is
//     not the last segment; fsync the directory; repeat. A crash leaves a
//     suffix of the segments; the first one's header names the base.
//
// Reset(index, term, hash), after installing a snapshot:
//  1. Make every flushed write durable.
//  2. Create a base-flagged segment (seq above every existing one, first
//     index+1, previous term and hash from the snapshot) by either segment
//     creation procedure. Its directory fsync is the commit point.
//  3. Remove every older segment, fsyncing the directory after each. A crash
//     during 3 leaves them for recovery (R3).
//
// Open: create the directory durably (fsync the parent of every directory it
// creates, and of the log directory itself), scan, and only
// if nothing is corrupt remove leftovers (then fsync the directory) and cut
// a torn tail (R12: truncate + fsync, or zero + fdatasync). Then note a
// usable spare and request one if the last segment is already half full.
//
// # Concurrency
//
// structMu is held shared by an Append's write phase and by readers, and
// exclusively by TruncateSuffix, CompactPrefix, Reset and Close. wmu orders
// the write phases of concurrent appenders. mu guards the in-memory state,
// the group-commit counters and the spare's state; syncs run without mu so
// appenders keep writing while a round is in flight. The spare preparer
// takes only mu (and touches only the spare's files), so a rollover or Reset
// may wait for it on the condition variable while holding wmu or structMu.
// Close stops the preparer before taking structMu. A ReadFrom callback must
// not call the Log.
package wal
