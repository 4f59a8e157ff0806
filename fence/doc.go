// Package fence owns the fencing manifest: the small file holding the facts a
// node must never forget (guarantee G6 in DESIGN.md) and the pure fencing
// checks built on them.
//
// # Contract
//
//   - The manifest holds NodeID, ClusterID, the raft term (our "view" and
//     fencing token), the vote cast in that term, and a lazily kept commit
//     index. The caller saves it before sending any message that depends on a
//     new term or vote; NeedsSave says when that is required (commit-only
//     changes never require a save).
//   - Monotonicity, enforced by Save (ErrRegression): the term never
//     decreases; within a term a vote, once cast, never changes; NodeID and
//     ClusterID never change once non-zero. The commit index is a lazy hint
//     and is not checked; the caller must never save one beyond its durable
//     log (an applied index is re-learned as proof of commitment).
//   - The file is never half-written or silently reinitialized: Open of a
//     damaged file returns a *CorruptError naming it; a missing file is an
//     empty state with Exists() == false. A leftover "manifest.tmp" (a Save
//     interrupted before its rename) is ignored and overwritten by the next
//     Save.
//   - Any I/O failure during Save poisons the Manifest: that Save and every
//     later one fail (ErrPoisoned; also ErrFsyncFailed when an fsync failed).
//     The caller crashes; the in-memory state stays the last durable one.
//
// # Byte format of <dir>/manifest (64 bytes, integers little-endian)
//
//	off len field
//	  0   8 magic "chr2fnc\x00"
//	  8   4 format version (1)
//	 12   4 reserved, zero
//	 16   8 node id
//	 24   8 cluster id
//	 32   8 term
//	 40   8 vote (0: none)
//	 48   8 commit index
//	 56   4 reserved, zero
//	 60   4 CRC32C (Castagnoli) of bytes 0..59
//
// # Save steps (each a crash point; after any crash Open returns exactly the
// old or the new state)
//
//  1. Check the transition against the current state (ErrRegression) and
//     skip the write when nothing changed.
//  2. First save only: create the directory (and missing ancestors), fsyncing
//     the parent of each one created.
//  3. Write the encoding to <dir>/manifest.tmp (created or truncated).
//  4. fsync manifest.tmp. Until the rename the old manifest is untouched.
//  5. Rename manifest.tmp over <dir>/manifest (atomic replace).
//  6. fsync <dir>. From here the new state survives a crash; Save returns.
package fence
