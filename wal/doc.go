// Package wal is chr2sql's strict write-ahead log: the durable copy of the
// raft log (guarantees G1 and G5 in DESIGN.md).
//
// It owns the segment files under <data-dir>/wal, the record and segment
// byte formats, group commit, recovery and verification. It knows nothing
// about raft beyond the storage contract: Type, BlockTime and Data are opaque.
//
// # Invariants
//
//   - Every record carries a CRC32C and its own chain hash; the chain links
//     every record to its predecessor back to the base (snapshot) hash.
//   - Indexes are contiguous and terms never decrease along the log.
//   - Only the last segment may hold a torn record; every other segment was
//     fsynced before its successor was created.
//   - A segment file name appears only with a complete, fsynced header.
//   - A failed fsync (or any failed write, rename, remove or truncate) poisons
//     the Log: that call and every later one fail with ErrPoisoned (and
//     ErrFsyncFailed when an fsync failed). Never retried; the caller crashes.
//   - Recovery never skips damaged data: it either truncates a torn tail or
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
//	  8   4 format version (1)
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
// # Recovery decision table (Open; Verify reports the same without acting)
//
//	row what recovery sees                                         decision
//	R1  no segment files                                            new log: create base segment 1 (Intact)
//	R2  a "*.wal.tmp" file                                          interrupted segment creation: remove it (TornTail)
//	R3  segments older than the newest base-flagged segment         interrupted Reset: remove them (TornTail)
//	R4  a "*.wal" file whose name is not a segment name             Corrupt
//	R5  a segment header that is short, fails its CRC, has a wrong  Corrupt: headers are fsynced before the name
//	    magic, version, flag or reserved byte, or disagrees with    appears, so a bad header is never a torn write
//	    its file name
//	R6  a sequence gap between retained segments                    Corrupt (missing segment in the middle)
//	R7  a header's first index != previous segment's last + 1       Corrupt (index gap)
//	R8  a header's previous term/hash != previous segment's last    Corrupt (broken chain)
//	R9  in a non-last segment, a record that does not decode        Corrupt: sealed segments were fsynced whole
//	    (short header, short payload, oversize length, bad CRC)
//	R10 a record whose CRC is valid but whose reserved bytes are    Corrupt
//	    not zero, index is not the expected one (gap, duplicate),
//	    term is below its predecessor's, or chain hash is wrong
//	R11 in the last segment, a record that does not decode, and a   Corrupt (mid-log damage, or a zero-filled
//	    complete record with a valid CRC starts at any later offset hole followed by data)
//	R12 in the last segment, a record that does not decode, and     torn tail: truncate the file at the record's
//	    only zeros or garbage follow (no plausible record)          offset, fsync, continue (TornTail)
//	R13 everything verifies                                         Intact
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
// # Durability steps
//
// Append (safe for concurrent callers):
//  1. Validate: indexes continue the last appended index, terms do not
//     decrease, sizes are within MaxDataBytes.
//  2. Encode with the chain hash; re-decode the encoded bytes (checksum,
//     offsets) right before writing.
//  3. Write at the end of the last segment. When the next record would make
//     the segment exceed SegmentBytes (and it already holds a record), roll
//     over first: fsync the current segment, then create the next one.
//  4. Wait for an fsync round that started after the write. A waiter that
//     finds no round in progress runs it for everyone (group commit), after
//     yielding once and waiting for appenders that entered before it to finish
//     their writes, so one fsync covers them too.
//  5. Return. Readers (LastIndex, ReadFrom) see only fsynced records.
//
// Segment creation (rollover, new log, Reset):
//  1. Write the header to "<name>.tmp"; 2. fsync it; 3. rename to "<name>";
//  4. fsync the directory. Before 4 completes a crash leaves no segment or a
//     leftover .tmp (R2); after it, the segment exists with its header.
//
// TruncateSuffix(from), on a raft conflict:
//  1. Make every flushed write durable; read the new chain head (record
//     from-1) before destroying anything.
//  2. Remove segments that start after from, newest first, fsyncing the
//     directory after each removal.
//  3. Truncate the segment holding from at that record's offset; fsync it.
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
//     index+1, previous term and hash from the snapshot) by the segment
//     creation steps. Step 4 of that is the commit point.
//  3. Remove every older segment, fsyncing the directory after each. A crash
//     during 3 leaves them for recovery (R3).
//
// Open: create the directory durably (fsync the parent of every directory it
// creates, and of the log directory itself), scan, and only
// if nothing is corrupt remove leftovers (then fsync the directory) and
// truncate a torn tail (then fsync the file).
//
// # Concurrency
//
// structMu is held shared by an Append's write phase and by readers, and
// exclusively by TruncateSuffix, CompactPrefix, Reset and Close. wmu orders
// the write phases of concurrent appenders. mu guards the in-memory state and
// the group-commit counters; fsync runs without mu so appenders keep writing
// while a round is in flight. A ReadFrom callback must not call the Log.
package wal
