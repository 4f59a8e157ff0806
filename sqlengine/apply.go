package sqlengine

import (
	"context"
	"fmt"
	"time"

	"github.com/chr2sql/chr2sql/entry"
)

// Apply applies committed log entries in order. It is called by the
// replication apply loop. On the leader, entries of the open epoch are only
// marked committed (they already executed); every other entry is executed
// here, on every node, and its digests compared with the leader's (G3).
// An error means the node halted and must stop.
func (w *Writer) Apply(entries []LogEntry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.halted != nil {
		return w.halted
	}
	if w.closed {
		return ErrClosed
	}
	var batch []LogEntry
	next := w.applied + 1
	for _, e := range entries {
		if e.Index < next {
			continue // applied before a restart or by an earlier call
		}
		if e.Index != next {
			w.haltLocked(fmt.Errorf("sqlengine: apply gap: expected index %d, got %d", next, e.Index))
			return w.halted
		}
		next++
		if w.epoch != nil && len(batch) == 0 {
			if w.markOwnLocked(e) {
				continue
			}
			if w.halted != nil {
				return w.halted
			}
		}
		batch = append(batch, e)
	}
	if len(batch) > 0 {
		if err := w.applyForeignLocked(batch, false); err != nil {
			w.haltLocked(err)
			return w.halted
		}
	}
	w.answerCommittedLocked()
	w.tryFinalizeLocked()
	w.admitNextLocked()
	return w.halted
}

// markOwnLocked handles an entry while an epoch is open: the next entry of
// the epoch is marked committed; an empty or configuration entry only moves
// the applied index — unless its term is newer than the epoch's next
// pending entry, which proves that entry lost (log matching: entries of an
// older term cannot follow it); anything else aborts the epoch. It reports
// whether the entry was consumed.
func (w *Writer) markOwnLocked(e LogEntry) bool {
	var next *pending
	for _, p := range w.epoch.pending {
		if p.data != nil && !p.committed {
			next = p
			break
		}
	}
	if e.Data == nil {
		if next == nil || e.Term <= next.term {
			w.applied, w.appliedTrm = e.Index, e.Term
			w.epoch.marked = append(w.epoch.marked, e)
			return true
		}
		w.abortEpochLocked(ErrLostProposal, true)
		return false
	}
	hdr, _, err := entry.Decode(e.Data)
	if err != nil {
		w.haltLocked(fmt.Errorf("sqlengine: corrupt committed entry at index %d: %w", e.Index, err))
		return false
	}
	if next != nil && hdr.ProposerID == w.cfg.NodeID && hdr.ProposalSeq == next.seq {
		next.committed, next.index = true, e.Index
		w.noteBlockTime(hdr.BlockTime)
		w.applied, w.appliedTrm = e.Index, e.Term
		w.epoch.marked = append(w.epoch.marked, e)
		return true
	}
	// A foreign entry: the epoch's remaining entries can never commit after
	// it, and the entry must apply on a state without them.
	w.abortEpochLocked(ErrLostProposal, true)
	return false
}

// applyForeignLocked executes entries in one SQLite transaction.
func (w *Writer) applyForeignLocked(entries []LogEntry, reapply bool) error {
	ctx := context.Background()
	if err := w.conn.execScript(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlengine: begin apply: %w", err)
	}
	schema, effects := false, false
	for _, e := range entries {
		if e.Data != nil {
			s, ef, err := w.applyEntryLocked(ctx, e)
			if err != nil {
				_ = w.conn.execScript(ctx, "ROLLBACK")
				return err
			}
			schema, effects = schema || s, effects || ef
		}
		w.applied = e.Index
		if e.Term != 0 {
			w.appliedTrm = e.Term
		}
	}
	if err := w.writeMetaLocked(ctx); err != nil {
		_ = w.conn.execScript(ctx, "ROLLBACK")
		return err
	}
	if err := w.conn.execScript(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlengine: commit apply: %w", err)
	}
	if schema && w.onSchema != nil {
		w.onSchema(w.conn)
	}
	w.advanceVisibleLocked(w.applied)
	if effects && w.onEffect != nil {
		w.onEffect()
	}
	_ = reapply
	return nil
}

// applyEntryLocked executes one entry's transactions and checks digests.
func (w *Writer) applyEntryLocked(ctx context.Context, e LogEntry) (schema, effects bool, err error) {
	hdr, body, err := entry.Decode(e.Data)
	if err != nil {
		return false, false, fmt.Errorf("sqlengine: corrupt committed entry at index %d: %w", e.Index, err)
	}
	txs, err := decodeTxs(body)
	if err != nil {
		return false, false, fmt.Errorf("sqlengine: corrupt committed entry at index %d: %w", e.Index, err)
	}
	for ti, tx := range txs {
		w.conn.env.BeginTransaction(time.UnixMicro(tx.BlockTime), hdr.Term, hdr.ProposalSeq, tx.Seed)
		if err := w.conn.execScript(ctx, `SAVEPOINT "chr2_tx"`); err != nil {
			return false, false, err
		}
		for si := range tx.Stmts {
			st := &tx.Stmts[si]
			w.conn.env.BeginStatement(uint32(ti<<16 | si))
			res, err := w.conn.runSteps(ctx, st, nil)
			if err != nil {
				return false, false, fmt.Errorf("sqlengine: divergence at index %d: statement %d failed here but succeeded on the leader: %w",
					e.Index, si, mapError(err, nil))
			}
			if res.digest != st.Digest {
				return false, false, fmt.Errorf("sqlengine: divergence at index %d: statement %d result digest %016x, leader observed %016x",
					e.Index, si, res.digest, st.Digest)
			}
			schema = schema || st.Flags&flagSchemaChange != 0
			effects = effects || st.Flags&flagEffects != 0
		}
		if err := w.conn.execScript(ctx, `RELEASE "chr2_tx"`); err != nil {
			return false, false, err
		}
		w.noteBlockTime(tx.BlockTime)
	}
	return schema, effects, nil
}
