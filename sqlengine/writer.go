package sqlengine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// Consensus is what the engine needs from the replicated log.
type Consensus interface {
	// ProposeBatch appends the entries of batch to the log in order; it
	// fails if this node is not the leader. It returns how many entries were
	// appended (locally, not committed); on an error none after them were.
	// A batch shares one WAL fsync: this is where group commit happens.
	ProposeBatch(ctx context.Context, batch [][]byte) (appended int, err error)
	// ReadIndex returns an index a linearizable read must wait for.
	ReadIndex(ctx context.Context) (uint64, error)
}

// LogEntry is a committed log entry handed to Apply.
type LogEntry struct {
	Index, Term uint64
	// Data is the envelope of a normal entry; nil for empty entries and
	// configuration changes, which change no SQL state.
	Data []byte
}

// WriterConfig tunes the writer.
type WriterConfig struct {
	NodeID uint64
	// CommitTimeout bounds how long a commit waits for the log.
	CommitTimeout time.Duration
	// IdleTxTimeout ends a write transaction idle for this long (25P03).
	IdleTxTimeout time.Duration
	// MaxEpochTxs and MaxEpochAge bound a group-commit epoch.
	MaxEpochTxs int
	MaxEpochAge time.Duration
	// AdmissionTimeout bounds the wait for the write lock.
	AdmissionTimeout time.Duration
	// MaxEntryBytes bounds one transaction's log entry (54000 beyond).
	MaxEntryBytes int
	Logger        *zap.Logger
}

func (c *WriterConfig) defaults() {
	if c.CommitTimeout == 0 {
		c.CommitTimeout = 5 * time.Second
	}
	if c.IdleTxTimeout == 0 {
		c.IdleTxTimeout = 30 * time.Second
	}
	if c.MaxEpochTxs == 0 {
		c.MaxEpochTxs = 1024
	}
	if c.MaxEpochAge == 0 {
		c.MaxEpochAge = 10 * time.Millisecond
	}
	if c.AdmissionTimeout == 0 {
		c.AdmissionTimeout = 10 * time.Second
	}
	if c.MaxEntryBytes == 0 {
		c.MaxEntryBytes = 32 << 20
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
}

// Writer owns the SQLite write connection. Everything that changes state —
// leader transactions and the apply of committed entries — runs through it
// one at a time, so the order in which the leader executes equals log order.
//
// On the leader, transactions execute before they are proposed, inside an
// epoch: one SQLite transaction that holds many client transactions, each in
// its own savepoint. Steps of a leader transaction:
//
//  1. Begin waits for admission: leader, caught up to the term's first
//     index, no other transaction active, epoch not draining.
//  2. Statements execute on the write connection; write statements are
//     recorded with the digest of their results.
//  3. Commit releases the savepoint, queues the entry for the proposer (one
//     goroutine, so log order equals execution order) and admits the next
//     transaction at once: execution overlaps the log's fsync.
//  4. Apply marks each entry committed as the log commits it, and its client
//     is answered then: the entry is durable on a majority (G1) and the
//     write connection already holds its effects.
//  5. The epoch drains — admits no more, and commits its SQLite transaction
//     with the applied index once every entry in it committed — when a
//     reader needs its effects (WaitVisible), a schema change must become
//     visible, it is full, or it is MaxEpochAge old. An interactive
//     transaction (an explicit block, which may wait on its client) active
//     in a draining epoch is rebased: rolled back to its savepoint, the epoch
//     commits, and its recorded statements run again in a new epoch — so a
//     reader never waits behind a slow client.
//  6. A foreign entry, a failed proposal or a lost leadership aborts the
//     epoch: SQLite rolls back, entries already committed in the log are
//     re-applied from their log data, the rest fail.
type Writer struct {
	cfg      WriterConfig
	cons     Consensus
	conn     *sqliteConn
	onSchema func(catalog.Querier) // reloads the engine's catalog after DDL became visible
	onEffect func()                // wakes the outbox after effects committed (it must not block)

	mu         sync.Mutex
	leader     bool
	term       uint64
	readyIndex uint64
	applied    uint64 // highest index applied on the write connection
	appliedTrm uint64
	visible    uint64 // highest index committed in SQLite
	blockTime  int64  // highest block time handed to a transaction (µs); never decreases
	appliedBT  int64  // highest block time of an applied entry: the persisted block_time
	seq        uint64 // proposal sequence of this process
	epoch      *epoch
	active     *Txn
	waiters    []*admission
	halted     error
	closed     bool
	visibleCh  chan struct{} // closed when visible advances
	leaderCh   chan struct{} // closed when this node becomes leader

	metrics  *writerMetrics
	proposeQ chan *pending
	stop     chan struct{}
	wg       sync.WaitGroup
}

type epoch struct {
	pending   []*pending
	started   time.Time
	draining  bool // admits nothing more; commits once every entry committed
	failed    bool
	schema    bool             // a DDL ran in the epoch
	effects   bool             // an effect was inserted in the epoch
	cat       *catalog.Catalog // the catalog after the epoch's committed DDL
	marked    []LogEntry       // entries the log committed during the epoch, in order
	txCount   int
	openedAt  uint64 // visible index when the epoch began
	visibleBT int64  // the persisted block time when the epoch began
}

// pending is one proposed entry (or a read-only transaction's marker)
// waiting for its epoch to commit.
type pending struct {
	ep        *epoch
	seq       uint64
	term      uint64 // the term the entry was proposed in
	data      []byte // nil for a marker
	index     uint64
	committed bool
	// proposed: handed to consensus, so it may be in the log and may still
	// commit through another leader; refused: consensus said it was not
	// appended. An aborted epoch answers proposed-but-not-refused entries
	// 08007 (outcome unknown), never "did not commit".
	proposed, refused bool
	// late: answer the client only when the epoch's SQLite transaction
	// commits (DDL, whose catalog must be current first).
	late     bool
	effects  bool // the transaction inserted effects: wake the outbox once committed
	signaled bool
	done     chan error
}

// signal answers the pending's client once.
func (p *pending) signal(err error) {
	if !p.signaled {
		p.signaled = true
		p.done <- err
	}
}

type admission struct {
	ch chan error
	tx *Txn
}

func newWriter(cfg WriterConfig, cons Consensus, conn *sqliteConn) *Writer {
	cfg.defaults()
	return &Writer{
		cfg:       cfg,
		cons:      cons,
		conn:      conn,
		visibleCh: make(chan struct{}),
		leaderCh:  make(chan struct{}),
		proposeQ:  make(chan *pending, 4*cfg.MaxEpochTxs),
		metrics:   newWriterMetrics(nil),
		stop:      make(chan struct{}),
		seq:       uint64(time.Now().UnixNano()), // distinct from earlier incarnations' sequences
	}
}

func (w *Writer) start() {
	w.wg.Add(1)
	go w.proposer()
}

func (w *Writer) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.failWaitersLocked(ErrClosed)
	w.mu.Unlock()
	close(w.stop)
	w.wg.Wait()
}

// maxProposalBatchBytes bounds the entries handed to consensus at once.
const maxProposalBatchBytes = 8 << 20

// proposer hands entries to consensus in exactly the order they executed,
// taking every entry queued meanwhile as one batch: entries queued while
// the previous batch was being fsynced share the next fsync.
func (w *Writer) proposer() {
	defer w.wg.Done()
	var batch []*pending
	var data [][]byte
	for {
		batch, data = batch[:0], data[:0]
		select {
		case p := <-w.proposeQ:
			batch = append(batch, p)
		case <-w.stop:
			return
		}
		size := len(batch[0].data)
	fill:
		for size < maxProposalBatchBytes {
			select {
			case p := <-w.proposeQ:
				batch = append(batch, p)
				size += len(p.data)
			default:
				break fill
			}
		}
		// Entries of an aborted epoch are dropped; they precede any live
		// ones, as a new epoch opens only after the previous one ended.
		live := batch[:0]
		w.mu.Lock()
		for _, p := range batch {
			if !p.ep.failed {
				p.proposed = true
				live = append(live, p)
				data = append(data, p.data)
			}
		}
		w.mu.Unlock()
		if len(live) == 0 {
			continue
		}
		// No deadline: a proposal handed to consensus and then abandoned
		// could still be appended, and every later entry of the epoch
		// executed on top of it. Consensus answers promptly: appended or
		// refused.
		n, err := w.cons.ProposeBatch(context.Background(), data)
		if err != nil {
			w.mu.Lock()
			for _, p := range live[min(n, len(live)):] {
				p.refused = true
			}
			w.proposalFailedLocked(live[min(n, len(live)-1)], err)
			w.mu.Unlock()
		}
	}
}

// SetLeadership records a leadership change. readyIndex is the index of
// the new leader's first entry in term; transactions are admitted once it is
// applied.
func (w *Writer) SetLeadership(leader bool, term, readyIndex uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	wasLeader := w.leader
	w.leader, w.term = leader, term
	if leader && !wasLeader {
		close(w.leaderCh)
		w.leaderCh = make(chan struct{})
	}
	if leader {
		w.readyIndex = readyIndex
		w.admitNextLocked()
		return
	}
	if wasLeader {
		w.cfg.Logger.Info("writer: leadership lost", zap.Uint64("term", term))
	}
	if w.active != nil {
		w.abortActiveLocked(ErrNotLeader)
	}
	w.failWaitersLocked(ErrNotLeader)
	if w.epoch != nil {
		// Its entries may still commit through the new leader; Apply decides.
		w.epoch.draining = true
		w.tryFinalizeLocked()
	}
}

// Leadership reports whether this node is leader and in which term.
func (w *Writer) Leadership() (bool, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.leader, w.term
}

func (w *Writer) failWaitersLocked(err error) {
	for _, a := range w.waiters {
		a.ch <- err
	}
	w.waiters = nil
}

// Begin waits until the writer admits a new transaction.
func (w *Writer) Begin(ctx context.Context, internal, interactive bool) (*Txn, error) {
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return nil, err
	}
	tx := &Txn{w: w, internal: internal, interactive: interactive}
	a := &admission{ch: make(chan error, 1), tx: tx}
	w.waiters = append(w.waiters, a)
	w.admitNextLocked()
	w.mu.Unlock()

	timer := time.NewTimer(w.cfg.AdmissionTimeout)
	defer timer.Stop()
	select {
	case err := <-a.ch:
		if err != nil {
			return nil, err
		}
		return tx, nil
	case <-ctx.Done():
		return nil, w.abandonAdmission(a, ctx.Err())
	case <-timer.C:
		return nil, w.abandonAdmission(a, ErrNoQuorum)
	}
}

// abandonAdmission withdraws a waiter; if it was admitted meanwhile, the
// transaction is rolled back so the writer is not left held.
func (w *Writer) abandonAdmission(a *admission, cause error) error {
	w.mu.Lock()
	for i, x := range w.waiters {
		if x == a {
			w.waiters = append(w.waiters[:i], w.waiters[i+1:]...)
			w.mu.Unlock()
			return cause
		}
	}
	w.mu.Unlock()
	if err := <-a.ch; err == nil {
		a.tx.Rollback()
	}
	return cause
}

func (w *Writer) usableLocked() error {
	switch {
	case w.halted != nil:
		return w.halted
	case w.closed:
		return ErrClosed
	case !w.leader:
		return ErrNotLeader
	}
	return nil
}

// admitNextLocked admits the next waiter, draining the epoch first when the
// waiter needs a fresh one.
func (w *Writer) admitNextLocked() {
	if w.active != nil || w.halted != nil || w.closed {
		return
	}
	if !w.leader {
		w.failWaitersLocked(ErrNotLeader)
		return
	}
	if w.applied < w.readyIndex || (w.epoch == nil && w.visible != w.applied) {
		return // Apply calls back once caught up.
	}
	if e := w.epoch; e != nil {
		if !e.draining && w.epochFullLocked() {
			e.draining = true
		}
		if e.draining {
			w.tryFinalizeLocked()
			return
		}
	}
	if len(w.waiters) == 0 {
		return
	}
	a := w.waiters[0]
	w.waiters = w.waiters[1:]
	if err := w.startTxLocked(a.tx); err != nil {
		w.haltLocked(fmt.Errorf("sqlengine: cannot start a transaction: %w", err))
		a.ch <- w.halted
		return
	}
	a.ch <- nil
}

// drainAged drains epoch e once it is MaxEpochAge old, if it is still open
// and holds entries to flush (an epoch holding only an interactive
// transaction has nothing to flush).
func (w *Writer) drainAged(e *epoch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.epoch == e && len(e.pending) > 0 {
		w.drainLocked()
	}
}

// drainLocked asks the open epoch to commit as soon as it can.
func (w *Writer) drainLocked() {
	if w.closed || w.halted != nil {
		return
	}
	if w.epoch != nil && !w.epoch.draining {
		w.epoch.draining = true
		w.tryFinalizeLocked()
	}
}

func (w *Writer) epochFullLocked() bool {
	e := w.epoch
	return e != nil && (e.txCount >= w.cfg.MaxEpochTxs || time.Since(e.started) > w.cfg.MaxEpochAge)
}

func (w *Writer) startTxLocked(tx *Txn) error {
	ctx := context.Background()
	if w.epoch == nil {
		if err := w.conn.execScript(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		e := &epoch{started: time.Now(), openedAt: w.visible, visibleBT: w.appliedBT}
		w.epoch = e
		time.AfterFunc(w.cfg.MaxEpochAge, func() { w.drainAged(e) })
	}
	if err := w.conn.execScript(ctx, `SAVEPOINT "chr2_tx"`); err != nil {
		return err
	}
	w.epoch.txCount++
	now := time.Now().UnixMicro()
	if now <= w.blockTime {
		now = w.blockTime + 1 // block time never goes backwards (G4)
	}
	w.blockTime = now
	w.seq++
	tx.ep = w.epoch
	tx.term = w.term
	tx.seq = w.seq
	tx.rec = txRecord{BlockTime: now, Seed: rand.Uint64()}
	w.conn.env.BeginTransaction(time.UnixMicro(now), tx.term, tx.seq, tx.rec.Seed)
	w.active = tx
	tx.touch()
	return nil
}

// abortActiveLocked rolls back the active transaction's savepoint.
func (w *Writer) abortActiveLocked(cause error) {
	tx := w.active
	if tx == nil {
		return
	}
	tx.aborted = cause
	tx.stopIdle()
	w.active = nil
	if w.epoch != nil && !w.epoch.failed {
		if err := w.conn.execScript(context.Background(), `ROLLBACK TO "chr2_tx"`, `RELEASE "chr2_tx"`); err != nil {
			w.haltLocked(fmt.Errorf("sqlengine: cannot roll back a transaction: %w", err))
			return
		}
		w.keepSequencesLocked(tx)
	}
}

// proposalFailedLocked handles a proposal consensus refused: it and every
// later entry of its epoch are lost; the epoch's earlier entries are in the
// log and may yet commit through another leader.
func (w *Writer) proposalFailedLocked(p *pending, err error) {
	if p.ep != w.epoch || p.committed {
		return
	}
	w.cfg.Logger.Info("writer: proposal refused; aborting epoch", zap.Error(err))
	w.abortEpochLocked(ErrLostProposal, false)
}

// abortEpochLocked rolls back the epoch's SQLite transaction, re-applies the
// entries the log already committed, and fails the rest. With provenLost
// (the log committed something that excludes them) every uncommitted entry
// gets cause; otherwise only those never appended do, and the ones handed
// to consensus get ErrAmbiguous: they may still commit.
func (w *Writer) abortEpochLocked(cause error, provenLost bool) {
	e := w.epoch
	if e == nil {
		return
	}
	e.failed = true
	w.metrics.epochAborts.Inc()
	if w.active != nil {
		w.active.aborted = cause
		w.active.stopIdle()
		w.active = nil
	}
	if err := w.conn.execScript(context.Background(), "ROLLBACK"); err != nil {
		w.haltLocked(fmt.Errorf("sqlengine: cannot roll back epoch: %w", err))
		return
	}
	w.epoch = nil
	w.applied, w.appliedBT = w.visible, e.visibleBT
	if len(e.marked) > 0 {
		// The log committed these while the epoch was open: apply them again
		// from their log data on the rolled-back state.
		if err := w.applyForeignLocked(e.marked, true); err != nil {
			w.haltLocked(err)
		}
	}
	for _, p := range e.pending {
		switch {
		case p.committed:
			p.signal(nil)
		case !provenLost && p.proposed && !p.refused:
			p.signal(ErrAmbiguous)
		default:
			p.signal(cause)
		}
	}
	w.failWaitersLocked(cause)
}

// tryFinalizeLocked commits the epoch's SQLite transaction once it is
// draining, no transaction is active and the log committed all its entries.
func (w *Writer) tryFinalizeLocked() {
	e := w.epoch
	if e == nil || !e.draining || w.closed {
		return
	}
	for _, p := range e.pending {
		if p.data != nil && !p.committed {
			return
		}
	}
	if w.active != nil {
		if !w.active.interactive || w.applied == w.visible {
			return // it finishes without waiting on its client, or nothing waits for it
		}
		w.rebaseActiveLocked()
		return
	}
	if w.commitEpochLocked() {
		w.admitNextLocked()
	}
}

// commitEpochLocked commits the epoch's SQLite transaction with the applied
// index and answers everyone waiting on it.
func (w *Writer) commitEpochLocked() bool {
	e := w.epoch
	if w.applied > w.visible {
		if err := w.writeMetaLocked(context.Background()); err != nil {
			w.haltLocked(err)
			return false
		}
	}
	if err := w.conn.execScript(context.Background(), "COMMIT"); err != nil {
		w.haltLocked(fmt.Errorf("sqlengine: epoch commit failed: %w", err))
		return false
	}
	w.epoch = nil
	w.metrics.epochTxs.Observe(float64(e.txCount))
	// The catalog must be current before any client learns of the commit.
	if e.schema && w.onSchema != nil {
		w.onSchema(w.conn)
	}
	w.advanceVisibleLocked(w.applied)
	for _, p := range e.pending {
		p.signal(nil)
	}
	if e.effects && w.onEffect != nil {
		w.onEffect()
	}
	return true
}

// rebaseActiveLocked moves the active interactive transaction out of the
// draining epoch: it is rolled back to its savepoint, the epoch commits,
// and the transaction's recorded statements execute again at the start of a
// new epoch. Nothing else ran in between, so they see the same state and
// produce the same results; a different digest is a broken invariant.
func (w *Writer) rebaseActiveLocked() {
	tx := w.active
	ctx := context.Background()
	if err := w.conn.execScript(ctx, `ROLLBACK TO "chr2_tx"`, `RELEASE "chr2_tx"`); err != nil {
		w.haltLocked(fmt.Errorf("sqlengine: rebase: %w", err))
		return
	}
	w.active = nil
	if !w.commitEpochLocked() {
		return
	}
	if err := w.conn.execScript(ctx, "BEGIN IMMEDIATE", `SAVEPOINT "chr2_tx"`); err != nil {
		w.haltLocked(fmt.Errorf("sqlengine: rebase: %w", err))
		return
	}
	ne := &epoch{started: time.Now(), openedAt: w.visible, visibleBT: w.appliedBT, txCount: 1}
	w.epoch = ne
	time.AfterFunc(w.cfg.MaxEpochAge, func() { w.drainAged(ne) })
	w.conn.env.BeginTransaction(time.UnixMicro(tx.rec.BlockTime), tx.term, tx.seq, tx.rec.Seed)
	for i := range tx.rec.Stmts {
		st := &tx.rec.Stmts[i]
		w.conn.env.BeginStatement(uint32(i))
		res, err := w.conn.runSteps(ctx, st, nil)
		if err != nil || res.digest != st.Digest {
			w.haltLocked(fmt.Errorf("sqlengine: rebase of an interactive transaction diverged at statement %d: %v", i, err))
			return
		}
	}
	tx.ep = ne
	// The flags make the epoch's commit reload the catalog and wake the
	// dispatcher; the transaction's catalog stays its own (tx.cat) until it
	// commits — published now, a rollback would leave its DDL visible to
	// the epoch's later transactions.
	ne.schema, ne.effects = tx.schema, tx.effects
	w.active = tx
}

// answerCommittedLocked answers the clients whose entries the log committed
// and the read-only markers behind them; DDL waits for the epoch commit.
func (w *Writer) answerCommittedLocked() {
	e := w.epoch
	if e == nil {
		return
	}
	wake := false
	for _, p := range e.pending {
		if p.data != nil && !p.committed {
			break // later entries and markers depend on this one
		}
		if !p.late && !p.signaled {
			p.signal(nil)
			wake = wake || p.effects
		}
	}
	if wake && w.onEffect != nil {
		// The dispatcher reads through QueryLocal, which makes the epoch
		// visible first: many commits share one flush.
		w.onEffect()
	}
}

func (w *Writer) writeMetaLocked(ctx context.Context) error {
	_, err := w.conn.exec(ctx, `UPDATE _chr2_meta SET value = CASE key WHEN 'applied_index' THEN ?1
		WHEN 'applied_term' THEN ?2 ELSE ?3 END WHERE key IN ('applied_index', 'applied_term', 'block_time')`,
		[]any{int64(w.applied), int64(w.appliedTrm), w.appliedBT})
	if err != nil {
		return fmt.Errorf("sqlengine: write applied index: %w", err)
	}
	return nil
}

// noteBlockTime records the block time of an applied entry.
func (w *Writer) noteBlockTime(bt int64) {
	if bt > w.appliedBT {
		w.appliedBT = bt
	}
	if bt > w.blockTime {
		w.blockTime = bt
	}
}

func (w *Writer) advanceVisibleLocked(index uint64) {
	if index <= w.visible {
		return
	}
	w.visible = index
	close(w.visibleCh)
	w.visibleCh = make(chan struct{})
}

// haltLocked stops the writer for good: state can no longer be trusted to
// match the log.
func (w *Writer) haltLocked(err error) {
	if w.halted != nil {
		return
	}
	w.halted = fmt.Errorf("%w: %v", ErrHalted, err)
	w.cfg.Logger.Error("writer: halted", zap.Error(err))
	if w.epoch != nil {
		for _, p := range w.epoch.pending {
			p.signal(w.halted)
		}
		w.epoch.failed = true
		w.epoch = nil
	}
	w.failWaitersLocked(w.halted)
}

// Applied returns the highest index applied on the write connection.
func (w *Writer) Applied() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.applied
}

// Visible returns the highest index whose effects readers can see.
func (w *Writer) Visible() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.visible
}

// WaitVisible blocks until index is visible to readers or ctx ends.
// WaitLeader waits until this node leads (SetLeadership(true, …)).
func (w *Writer) WaitLeader(ctx context.Context) error {
	for {
		w.mu.Lock()
		if w.halted != nil {
			err := w.halted
			w.mu.Unlock()
			return err
		}
		if w.leader {
			w.mu.Unlock()
			return nil
		}
		ch := w.leaderCh
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *Writer) WaitVisible(ctx context.Context, index uint64) error {
	for {
		w.mu.Lock()
		if w.halted != nil {
			err := w.halted
			w.mu.Unlock()
			return err
		}
		if w.visible >= index {
			w.mu.Unlock()
			return nil
		}
		if w.applied >= index {
			w.drainLocked() // a reader needs what the open epoch holds
			if w.visible >= index {
				w.mu.Unlock()
				return nil
			}
		}
		ch := w.visibleCh
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Halted returns the halt error, if any.
func (w *Writer) Halted() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.halted
}

// clientError maps writer sentinels to client errors.
func clientError(err error) error {
	var pe *pgerr.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrLeaderIsLocal):
		return pgerr.New(pgerr.CannotConnectNow, "this node is not the leader and cannot accept writes").
			WithHint("Connect to the leader, or retry once a leader is elected.")
	case errors.Is(err, ErrNoQuorum):
		return pgerr.New(pgerr.CannotConnectNow, "no quorum: the request could not be served in time").
			WithHint("A majority of nodes must be reachable for writes and linearizable reads.")
	case errors.Is(err, ErrLostProposal):
		return pgerr.New(pgerr.SerializationFailure, "could not commit: leadership changed before the transaction was committed").
			WithHint("The transaction did not commit; retry it.")
	case errors.Is(err, ErrAmbiguous):
		return pgerr.New(pgerr.TransactionResolutionUnknown, "transaction outcome unknown: the commit could not be confirmed").
			WithHint("The transaction may or may not have committed; check before retrying.")
	case errors.Is(err, ErrHalted):
		return pgerr.Wrap(err, pgerr.DataCorrupted, "node halted: %v", err)
	case errors.Is(err, ErrClosed):
		return pgerr.New(pgerr.AdminShutdown, "terminating connection due to administrator command")
	case errors.Is(err, errIdle):
		return &pgerr.Error{Severity: pgerr.SeverityFatal, Code: pgerr.IdleInTransactionSessionTimeout,
			Message: "terminating connection due to idle-in-transaction timeout"}
	}
	return pgerr.From(err)
}
