package replication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// Snapshot files live in <data-dir>/snapshots:
//
//	<index>-<term>.db    the state machine's consistent copy at index
//	<index>-<term>.meta  the raft snapshot (metadata; Data = snapshotMeta)
//
// Both are written to a temporary name, fsynced and renamed, and the
// directory is fsynced. Steps of taking a snapshot (any node):
//
//  1. The state machine writes its copy; the copy records the index it holds.
//  2. The raft loop records the snapshot in memory storage with the
//     membership as of that index and the WAL chain hash at that index, and
//     writes the .meta file.
//  3. The log is compacted behind it, keeping keepEntries for slow peers.
//
// Steps of installing one received from the leader (raft loop, then applier):
//
//  1. The transport has stored the .db file before raft sees the MsgSnap.
//  2. The .meta file is written (now the node knows the snapshot durably).
//  3. The WAL is reset to start after the snapshot, chained to its hash.
//  4. The applier replaces the state database with a hard link of the file.
//
// A crash between any two steps is repaired at start: the newest .meta names
// the snapshot; a WAL ending before it is reset; a state machine behind it is
// restored from the .db file.

// snapshotMeta is carried in raftpb.Snapshot.Data.
type snapshotMeta struct {
	File  string `json:"file"`
	Index uint64 `json:"index"`
	Term  uint64 `json:"term"`
	Chain []byte `json:"chain"`
	// Peers is the raft address book at the snapshot: the configuration
	// changes that carried the addresses are compacted away.
	Peers map[uint64]string `json:"peers"`
}

// Snapshotter is implemented by state machines that can copy and replace
// their state.
type Snapshotter interface {
	// Snapshot writes a consistent copy to path and returns the index and
	// term it holds.
	Snapshot(ctx context.Context, path string) (index, term uint64, err error)
	// Restore replaces the state with the copy at path (consuming path).
	Restore(path string) error
}

func snapshotDir(dataDir string) string { return filepath.Join(dataDir, "snapshots") }

func snapshotBase(index, term uint64) string { return fmt.Sprintf("%016x-%016x", index, term) }

// snapshotFiles implements SnapshotStore for the transport.
type snapshotFiles struct {
	dir string
}

var _ SnapshotStore = (*snapshotFiles)(nil)

func decodeSnapshotMeta(data []byte) (snapshotMeta, error) {
	var m snapshotMeta
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("replication: bad snapshot metadata: %w", err)
	}
	if m.File == "" || strings.ContainsAny(m.File, `/\`) || m.File != snapshotBase(m.Index, m.Term)+".db" {
		return m, errors.New("replication: snapshot metadata names an unexpected file")
	}
	return m, nil
}

func (s *snapshotFiles) OpenSnapshot(meta []byte) (io.ReadCloser, int64, error) {
	m, err := decodeSnapshotMeta(meta)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(filepath.Join(s.dir, m.File))
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func (s *snapshotFiles) ReceiveSnapshot(meta []byte, r io.Reader, size int64) error {
	m, err := decodeSnapshotMeta(meta)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	final := filepath.Join(s.dir, m.File)
	return writeDurable(final, func(f *os.File) error {
		n, err := io.Copy(f, io.LimitReader(r, size+1))
		if err != nil {
			return err
		}
		if n != size {
			return fmt.Errorf("replication: snapshot stream of %d bytes, expected %d", n, size)
		}
		return nil
	})
}

// writeDurable writes path via a temporary file, fsync, rename and a
// directory fsync.
func writeDurable(path string, fill func(*os.File) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("replication: fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return fsyncDir(filepath.Dir(path))
}

func fsyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("replication: fsync %s: %w", dir, err)
	}
	return nil
}

// latestSnapshot loads the newest .meta file, or nil.
func latestSnapshot(dataDir string) (*raftpb.Snapshot, error) {
	names, err := filepath.Glob(filepath.Join(snapshotDir(dataDir), "*.meta"))
	if err != nil || len(names) == 0 {
		return nil, err
	}
	sort.Strings(names)
	b, err := os.ReadFile(names[len(names)-1])
	if err != nil {
		return nil, err
	}
	var snap raftpb.Snapshot
	if err := snap.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("replication: corrupt snapshot metadata %s: %w", names[len(names)-1], err)
	}
	return &snap, nil
}

func saveSnapshotMeta(dataDir string, snap raftpb.Snapshot) error {
	b, err := snap.Marshal()
	if err != nil {
		return err
	}
	path := filepath.Join(snapshotDir(dataDir), snapshotBase(snap.Metadata.Index, snap.Metadata.Term)+".meta")
	return writeDurable(path, func(f *os.File) error { _, err := f.Write(b); return err })
}

// pruneSnapshots removes snapshot files older than the newest keep.
func pruneSnapshots(dataDir string, keep int) {
	for _, pattern := range []string{"*.meta", "*.db"} {
		names, _ := filepath.Glob(filepath.Join(snapshotDir(dataDir), pattern))
		sort.Strings(names)
		for i := 0; i < len(names)-keep; i++ {
			os.Remove(names[i])
		}
	}
}

// restoreFromFile hands the state machine a hard link of the snapshot file,
// so the file itself stays for crash recovery and for sending to peers.
func restoreFromFile(sm Snapshotter, dataDir, file string) error {
	src := filepath.Join(snapshotDir(dataDir), file)
	link := src + ".restore"
	os.Remove(link)
	if err := os.Link(src, link); err != nil {
		return fmt.Errorf("replication: restore snapshot: %w", err)
	}
	return sm.Restore(link)
}

// recoverSnapshot repairs an interrupted snapshot install at start.
func (n *Node) recoverSnapshot(snap *raftpb.Snapshot) error {
	if snap == nil {
		return nil
	}
	m, err := decodeSnapshotMeta(snap.Data)
	if err != nil {
		return err
	}
	if n.store.wal.LastIndex() < m.Index {
		var chain [32]byte
		copy(chain[:], m.Chain)
		if err := n.store.wal.Reset(m.Index, m.Term, chain); err != nil {
			return err
		}
		n.log.Info("replication: finished an interrupted snapshot install", zap.Uint64("index", m.Index))
	}
	ss, ok := n.sm.(Snapshotter)
	if ok && n.sm.AppliedIndex() < m.Index {
		if err := restoreFromFile(ss, n.cfg.DataDir, m.File); err != nil {
			return err
		}
		n.log.Info("replication: state restored from snapshot", zap.Uint64("index", m.Index))
	}
	return nil
}

// installSnapshot persists a snapshot received from the leader (steps 2–3)
// and queues the state replacement for the applier (step 4).
func (n *Node) installSnapshot(snap raftpb.Snapshot) error {
	m, err := decodeSnapshotMeta(snap.Data)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(snapshotDir(n.cfg.DataDir), m.File)); err != nil {
		return fmt.Errorf("replication: snapshot %s was not received: %w", m.File, err)
	}
	if err := saveSnapshotMeta(n.cfg.DataDir, snap); err != nil {
		return err
	}
	var chain [32]byte
	copy(chain[:], m.Chain)
	if err := n.store.wal.Reset(m.Index, m.Term, chain); err != nil {
		return fmt.Errorf("replication: reset log to snapshot %d: %w", m.Index, err)
	}
	if err := n.store.mem.ApplySnapshot(snap); err != nil && !errors.Is(err, raft.ErrSnapOutOfDate) {
		return err
	}
	n.recordConfState(m.Index, snap.Metadata.ConfState)
	for id, addr := range m.Peers {
		n.store.peerAddrs[id] = addr
		if id != n.cfg.NodeID {
			n.cfg.Transport.AddPeer(id, addr)
		}
	}
	n.log.Info("replication: installing snapshot from the leader", zap.Uint64("index", m.Index), zap.Uint64("term", m.Term))
	n.enqueueApply(applyTask{snapshot: &m})
	return nil
}

// confAt is the membership from a given index on.
type confAt struct {
	index uint64
	cs    raftpb.ConfState
}

func (n *Node) recordConfState(index uint64, cs raftpb.ConfState) {
	n.confHistory = append(n.confHistory, confAt{index: index, cs: cs})
	if len(n.confHistory) > 64 {
		n.confHistory = n.confHistory[len(n.confHistory)-64:]
	}
}

// confStateAt returns the membership in force at index.
func (n *Node) confStateAt(index uint64) (raftpb.ConfState, bool) {
	for i := len(n.confHistory) - 1; i >= 0; i-- {
		if n.confHistory[i].index <= index {
			return n.confHistory[i].cs, true
		}
	}
	return raftpb.ConfState{}, false
}

// snapshotDone reports a state machine copy taken by snapshotWorker.
type snapshotDone struct {
	index, term uint64
	tmp         string
	err         error
}

// maybeSnapshot starts a copy once enough entries were applied since the
// last snapshot (applier goroutine; one copy at a time).
func (n *Node) maybeSnapshot() {
	ss, ok := n.sm.(Snapshotter)
	if !ok || n.cfg.SnapshotEntries == 0 || n.snapshotting.Load() {
		return
	}
	if n.sm.AppliedIndex() < n.lastSnapIndex.Load()+n.cfg.SnapshotEntries {
		return
	}
	n.snapshotting.Store(true)
	n.snapWG.Add(1)
	go func() {
		defer n.snapWG.Done()
		dir := snapshotDir(n.cfg.DataDir)
		var d snapshotDone
		if err := os.MkdirAll(dir, 0o755); err != nil {
			d.err = err
		} else {
			d.tmp = filepath.Join(dir, "taking.db")
			d.index, d.term, d.err = ss.Snapshot(context.Background(), d.tmp)
		}
		select {
		case n.snapc <- d:
		case <-n.stopc:
			n.snapshotting.Store(false)
		}
	}()
}

// finishSnapshot records a finished copy and compacts the log (raft loop).
func (n *Node) finishSnapshot(d snapshotDone) error {
	defer n.snapshotting.Store(false)
	if d.err != nil {
		n.log.Warn("replication: snapshot failed", zap.Error(d.err))
		return nil
	}
	if d.index <= n.lastSnapIndex.Load() {
		return nil
	}
	if t, err := n.store.mem.Term(d.index); err == nil && t != d.term {
		return fmt.Errorf("replication: snapshot at index %d holds term %d but the log has term %d", d.index, d.term, t)
	}
	chain, err := n.store.wal.ChainHash(d.index)
	if err != nil {
		return fmt.Errorf("replication: chain hash for snapshot %d: %w", d.index, err)
	}
	cs, ok := n.confStateAt(d.index)
	if !ok {
		return fmt.Errorf("replication: no membership known at index %d", d.index)
	}
	name := snapshotBase(d.index, d.term) + ".db"
	if err := os.Rename(d.tmp, filepath.Join(snapshotDir(n.cfg.DataDir), name)); err != nil {
		return err
	}
	if err := fsyncDir(snapshotDir(n.cfg.DataDir)); err != nil {
		return err
	}
	peers := map[uint64]string{}
	for id, addr := range n.store.peerAddrs {
		peers[id] = addr
	}
	data, _ := json.Marshal(snapshotMeta{File: name, Index: d.index, Term: d.term, Chain: chain[:], Peers: peers})
	snap, err := n.store.mem.CreateSnapshot(d.index, &cs, data)
	if err != nil {
		if errors.Is(err, raft.ErrSnapOutOfDate) {
			return nil
		}
		return err
	}
	if err := saveSnapshotMeta(n.cfg.DataDir, snap); err != nil {
		return err
	}
	n.lastSnapIndex.Store(d.index)
	n.log.Info("replication: snapshot taken", zap.Uint64("index", d.index), zap.Uint64("term", d.term))
	return n.compact(d.index)
}

// compact drops log entries older than keepEntries behind the snapshot.
func (n *Node) compact(snapIndex uint64) error {
	if snapIndex <= n.cfg.KeepEntries {
		return nil
	}
	through := snapIndex - n.cfg.KeepEntries
	if first, _ := n.store.mem.FirstIndex(); through < first {
		return nil
	}
	if err := n.store.mem.Compact(through); err != nil && !errors.Is(err, raft.ErrCompacted) {
		return err
	}
	if err := n.store.wal.CompactPrefix(through); err != nil {
		return fmt.Errorf("replication: compact log through %d: %w", through, err)
	}
	pruneSnapshots(n.cfg.DataDir, 2)
	return nil
}

// NewSnapshotStore returns the transport's view of the snapshot files under
// dataDir.
func NewSnapshotStore(dataDir string) SnapshotStore {
	return &snapshotFiles{dir: snapshotDir(dataDir)}
}
