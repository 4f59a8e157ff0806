package sqlengine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/chr2sql/chr2sql/entry"
	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/funcs"
)

var errIdle = errors.New("sqlengine: write transaction idle too long")

// scratchOrdinal marks statements that are not recorded in the entry; their
// random stream only needs to differ from recorded statements'.
const scratchOrdinal = 1 << 31

// Txn is a transaction admitted by the Writer. Its methods are called by
// one session goroutine; the Writer may abort it concurrently.
type Txn struct {
	w        *Writer
	ep       *epoch
	term     uint64
	seq      uint64
	rec      txRecord
	internal bool
	// interactive transactions (explicit blocks) may wait on their client;
	// a draining epoch rebases them instead of waiting.
	interactive bool
	kind        entry.Kind
	aborted     error
	idle        *time.Timer
	scratch     uint32
	cat         *catalog.Catalog // the transaction's own catalog after DDL
	schema      bool             // the transaction changed the schema
	effects     bool             // the transaction inserted effects
	// seqs is the latest state of each sequence the transaction advanced.
	// Like PostgreSQL's, sequence advances survive a rollback: values
	// handed out are never handed out again.
	seqs map[uint32]funcs.SequenceRow
}

// Term is the leader term the transaction executes in (its fencing token).
func (tx *Txn) Term() uint64 { return tx.term }

// BlockTime is the transaction's deterministic time.
func (tx *Txn) BlockTime() time.Time { return time.UnixMicro(tx.rec.BlockTime) }

// SetKind labels the entry the transaction will be proposed as.
func (tx *Txn) SetKind(k entry.Kind) { tx.kind = k }

// Catalog returns the catalog as this transaction sees it — including DDL
// of earlier transactions in the same epoch — or nil when the committed
// catalog applies.
func (tx *Txn) Catalog() *catalog.Catalog {
	if tx.cat != nil {
		return tx.cat
	}
	tx.w.mu.Lock()
	defer tx.w.mu.Unlock()
	return tx.ep.cat
}

func (tx *Txn) touch() {
	if tx.idle != nil {
		tx.idle.Reset(tx.w.cfg.IdleTxTimeout)
		return
	}
	tx.idle = time.AfterFunc(tx.w.cfg.IdleTxTimeout, func() {
		w := tx.w
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.active == tx {
			w.abortActiveLocked(errIdle)
			w.admitNextLocked()
		}
	})
}

func (tx *Txn) stopIdle() {
	if tx.idle != nil {
		tx.idle.Stop()
	}
}

// Exec runs one statement in the transaction. record marks statements that
// change state (they go into the entry); collect receives result rows.
func (tx *Txn) Exec(ctx context.Context, rec stmtRecord, record bool, collect func([]driver.Value) error) (stepResult, error) {
	w := tx.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if tx.aborted != nil {
		return stepResult{}, clientError(tx.aborted)
	}
	if w.active != tx {
		return stepResult{}, clientError(ErrNotLeader)
	}
	tx.touch()
	ordinal := uint32(len(tx.rec.Stmts))
	if !record {
		tx.scratch++
		ordinal = scratchOrdinal | tx.scratch
	}
	w.conn.env.BeginStatement(ordinal)
	res, err := w.conn.runSteps(ctx, &rec, collect)
	tx.noteSequences(w.conn.env.DirtySequences())
	if err != nil {
		return res, err
	}
	if record {
		rec.Digest = res.digest
		tx.rec.Stmts = append(tx.rec.Stmts, rec)
		if rec.Flags&flagEffects != 0 {
			tx.ep.effects, tx.effects = true, true
		}
	}
	if rec.Flags&flagSchemaChange != 0 {
		tx.ep.schema, tx.schema = true, true
		cat, err := catalog.Load(w.conn)
		if err != nil {
			w.haltLocked(fmt.Errorf("sqlengine: reload catalog in transaction: %w", err))
			return res, w.halted
		}
		tx.cat = cat
	}
	return res, nil
}

// Commit proposes the transaction and waits until its epoch commits.
func (tx *Txn) Commit(ctx context.Context) error {
	w := tx.w
	w.mu.Lock()
	if tx.aborted != nil {
		w.mu.Unlock()
		return clientError(tx.aborted)
	}
	if w.active != tx {
		w.mu.Unlock()
		return clientError(ErrNotLeader)
	}
	tx.stopIdle()
	if size := tx.recordBytes(); size > w.cfg.MaxEntryBytes {
		w.abortActiveLocked(errRolledBack)
		w.admitNextLocked()
		w.mu.Unlock()
		return pgerr.New(pgerr.ProgramLimitExceeded, "transaction too large: its log entry would be %d bytes, the limit is %d",
			size, w.cfg.MaxEntryBytes).WithHint("Split the work into smaller transactions.")
	}
	if err := w.conn.execScript(ctx, `RELEASE "chr2_tx"`); err != nil {
		w.haltLocked(fmt.Errorf("sqlengine: release transaction: %w", err))
		w.mu.Unlock()
		return clientError(w.halted)
	}
	p := tx.pendingLocked()
	if tx.cat != nil {
		tx.ep.cat = tx.cat
	}
	if p != nil && tx.schema {
		// The catalog reload reads committed state; DDL clients are
		// answered once it is visible.
		p.late = true
		tx.ep.draining = true
	}
	if p != nil {
		p.effects = tx.effects
	}
	w.active = nil
	w.answerCommittedLocked()
	w.admitNextLocked()
	w.mu.Unlock()
	if p == nil {
		return nil
	}
	return tx.wait(ctx, p)
}

// recordBytes estimates the encoded size of the transaction's entry.
func (tx *Txn) recordBytes() int {
	n := 64
	for _, st := range tx.rec.Stmts {
		n += 16
		for _, step := range st.Steps {
			n += len(step.SQL) + 8
			for _, a := range step.Args {
				switch x := a.(type) {
				case string:
					n += len(x) + 4
				case []byte:
					n += len(x) + 4
				default:
					n += 10
				}
			}
		}
	}
	return n
}

// pendingLocked queues the transaction's entry, or a marker for a read-only
// transaction that saw effects of entries not yet committed.
func (tx *Txn) pendingLocked() *pending {
	w := tx.w
	ep := tx.ep
	if len(tx.rec.Stmts) == 0 {
		if len(ep.pending) == 0 {
			return nil
		}
		p := &pending{ep: ep, done: make(chan error, 1)}
		ep.pending = append(ep.pending, p)
		return p
	}
	kind := tx.kind
	if kind == 0 {
		kind = entry.KindTxn
	}
	data := entry.Encode(entry.Header{Kind: kind, BlockTime: tx.rec.BlockTime, ProposerID: w.cfg.NodeID,
		ProposalSeq: tx.seq, Term: tx.term}, encodeTxs([]txRecord{tx.rec}))
	p := &pending{ep: ep, seq: tx.seq, term: tx.term, data: data, done: make(chan error, 1)}
	ep.pending = append(ep.pending, p)
	w.proposeQ <- p
	return p
}

func (tx *Txn) wait(ctx context.Context, p *pending) error {
	start := time.Now()
	timer := time.NewTimer(tx.w.cfg.CommitTimeout)
	defer timer.Stop()
	select {
	case err := <-p.done:
		if err == nil && p.data != nil {
			tx.w.metrics.commitLatency.Observe(time.Since(start).Seconds())
		}
		return clientError(err)
	case <-timer.C:
		return clientError(ErrAmbiguous)
	case <-ctx.Done():
		return clientError(ErrAmbiguous)
	}
}

// Rollback abandons the transaction.
func (tx *Txn) Rollback() {
	w := tx.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active != tx {
		return
	}
	w.abortActiveLocked(errRolledBack)
	w.admitNextLocked()
}

var errRolledBack = errors.New("sqlengine: transaction rolled back")

// Aborted returns why the writer aborted the transaction, or nil.
func (tx *Txn) Aborted() error {
	tx.w.mu.Lock()
	defer tx.w.mu.Unlock()
	return tx.aborted
}

func (tx *Txn) noteSequences(dirty map[uint32]funcs.SequenceRow) {
	if len(dirty) == 0 {
		return
	}
	if tx.seqs == nil {
		tx.seqs = make(map[uint32]funcs.SequenceRow, len(dirty))
	}
	for oid, r := range dirty {
		tx.seqs[oid] = r
	}
}

// keepSequencesLocked runs after tx was rolled back: it commits the
// sequence advances tx made as a transaction of their own, before any other
// transaction is admitted, so no value tx handed out is handed out again.
// Nobody waits for the entry; if it is lost, so are the advances, which
// only reopens the window PostgreSQL also has after a crash.
func (w *Writer) keepSequencesLocked(tx *Txn) {
	if len(tx.seqs) == 0 || w.epoch == nil || w.epoch.failed || !w.leader || w.halted != nil || w.closed {
		return
	}
	keep := &Txn{w: w, internal: true}
	if err := w.startTxLocked(keep); err != nil {
		w.haltLocked(fmt.Errorf("sqlengine: cannot start a transaction: %w", err))
		return
	}
	rec := stmtRecord{}
	for _, oid := range sortedOIDs(tx.seqs) {
		r := tx.seqs[oid]
		called := int64(0)
		if r.Called {
			called = 1
		}
		rec.Steps = append(rec.Steps, stepRecord{SQL: "UPDATE _chr2_sequences SET last_value = ?1, is_called = ?2 WHERE oid = ?3",
			Args: []any{r.Last, called, int64(oid)}})
	}
	w.conn.env.BeginStatement(0)
	res, err := w.conn.runSteps(context.Background(), &rec, nil)
	if err == nil {
		err = w.conn.execScript(context.Background(), `RELEASE "chr2_tx"`)
	}
	if err != nil {
		w.haltLocked(fmt.Errorf("sqlengine: keep sequence advances: %w", err))
		return
	}
	rec.Digest = res.digest
	keep.rec.Stmts = append(keep.rec.Stmts, rec)
	keep.stopIdle()
	w.active = nil
	keep.pendingLocked()
}
