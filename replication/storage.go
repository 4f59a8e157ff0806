package replication

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/chr2sql/chr2sql/entry"
	"github.com/chr2sql/chr2sql/fence"
	"github.com/chr2sql/chr2sql/vfs"
	"github.com/chr2sql/chr2sql/wal"
)

// ErrNoManifest means the log holds entries but the fencing manifest is
// gone: the node could vote twice in a term, so it refuses to start.
var ErrNoManifest = errors.New("replication: the log has entries but the fencing manifest is missing")

// durableLog is raft's storage: the strict WAL and the fence manifest are
// durable; raft.MemoryStorage is the in-memory index raft reads from.
type durableLog struct {
	fs       vfs.FS
	wal      *wal.Log
	manifest *fence.Manifest
	mem      *raft.MemoryStorage
	// confState is the membership as of the applied index, derived at start
	// from the snapshot and the configuration changes in the log (raft does
	// not redeliver applied entries, so it must be told).
	confState raftpb.ConfState
	// peerAddrs are raft addresses learned from configuration changes.
	peerAddrs map[uint64]string
	// hard is the last HardState raft asked us to persist (commit may be
	// newer than the manifest's: commit is kept lazily, G6).
	hard raftpb.HardState
}

// openDurableLog opens the WAL and manifest under dataDir and loads every
// retained entry into memory. fresh reports a node without any state.
func openDurableLog(fs vfs.FS, dataDir string, snap *raftpb.Snapshot) (*durableLog, bool, error) {
	if fs == nil {
		fs = vfs.OS
	}
	m, err := fence.Open(fs, dataDir)
	if err != nil {
		return nil, false, err
	}
	w, err := wal.Open(wal.Options{Dir: filepath.Join(dataDir, "wal"), FS: fs})
	if err != nil {
		return nil, false, err
	}
	d := &durableLog{fs: fs, wal: w, manifest: m, mem: raft.NewMemoryStorage(), peerAddrs: map[uint64]string{}}
	hasEntries := w.LastIndex() > 0
	if hasEntries && !m.Exists() {
		w.Close()
		return nil, false, fmt.Errorf("%w (%s)", ErrNoManifest, filepath.Join(dataDir, "manifest"))
	}
	if m.Exists() && w.Created() && (m.State().Term > 0 || m.State().Commit > 0) && snap == nil {
		w.Close()
		return nil, false, fmt.Errorf("replication: the fencing manifest exists (term %d) but the log under %s is gone",
			m.State().Term, filepath.Join(dataDir, "wal"))
	}
	if snap != nil && !raft.IsEmptySnap(*snap) {
		d.confState = snap.Metadata.ConfState
		if m, err := decodeSnapshotMeta(snap.Data); err == nil {
			for id, addr := range m.Peers {
				d.peerAddrs[id] = addr
			}
		}
		if err := d.mem.ApplySnapshot(*snap); err != nil {
			w.Close()
			return nil, false, fmt.Errorf("replication: load snapshot metadata: %w", err)
		}
	}
	if err := d.loadEntries(); err != nil {
		w.Close()
		return nil, false, err
	}
	fresh := !m.Exists() && !hasEntries
	return d, fresh, nil
}

// reloadAfterRecovery reloads entries after recoverSnapshot may have reset
// the WAL (an interrupted install).
func (d *durableLog) reloadAfterRecovery(snap *raftpb.Snapshot) error {
	last, _ := d.mem.LastIndex()
	if last >= d.wal.FirstIndex() || d.wal.LastIndex() == 0 {
		return nil
	}
	d.mem = raft.NewMemoryStorage()
	if err := d.mem.ApplySnapshot(*snap); err != nil {
		return err
	}
	return d.loadEntries()
}

func (d *durableLog) loadEntries() error {
	first := d.wal.FirstIndex()
	if snapIdx, _ := d.mem.FirstIndex(); snapIdx > first {
		first = snapIdx
	}
	if first > d.wal.LastIndex() {
		return nil
	}
	var ents []raftpb.Entry
	err := d.wal.ReadFrom(first, func(r wal.Record) error {
		ents = append(ents, raftpb.Entry{Index: r.Index, Term: r.Term, Type: raftpb.EntryType(r.Type), Data: r.Data})
		if len(ents) >= 4096 {
			if err := d.mem.Append(ents); err != nil {
				return err
			}
			ents = ents[:0]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replication: load log: %w", err)
	}
	if len(ents) > 0 {
		return d.mem.Append(ents)
	}
	return nil
}

// initHardState restores term and vote from the manifest and a commit index
// no lower than what the state machine already applied (an applied index is
// itself proof of commitment) and never beyond the durable log.
func (d *durableLog) initHardState(applied uint64) error {
	st := d.manifest.State()
	commit := st.Commit
	if applied > commit {
		commit = applied
	}
	last, _ := d.mem.LastIndex()
	if commit > last {
		if applied > last {
			return fmt.Errorf("replication: state applied through index %d but the log ends at %d", applied, last)
		}
		commit = last
	}
	snapFirst, _ := d.mem.FirstIndex()
	if commit < snapFirst-1 {
		commit = snapFirst - 1
	}
	d.hard = raftpb.HardState{Term: st.Term, Vote: st.Vote, Commit: commit}
	return d.mem.SetHardState(d.hard)
}

// saveHardState persists term/vote changes in the manifest before anything
// that depends on them is sent (G6); commit-only changes stay in memory.
func (d *durableLog) saveHardState(hs raftpb.HardState, nodeID, clusterID uint64) error {
	if raft.IsEmptyHardState(hs) {
		return nil
	}
	old := d.manifest.State()
	next := fence.State{NodeID: nodeID, ClusterID: clusterID, Term: hs.Term, Vote: hs.Vote, Commit: hs.Commit}
	if !d.manifest.Exists() || fence.NeedsSave(old, next) {
		if err := d.manifest.Save(next); err != nil {
			return err
		}
	}
	d.hard = hs
	return d.mem.SetHardState(hs)
}

// appendEntries writes entries to the WAL (truncating a conflicting suffix
// first) and returns once they are durable; then raft may read them.
func (d *durableLog) appendEntries(ents []raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	first := ents[0].Index
	if first <= d.wal.LastIndex() {
		if err := d.wal.TruncateSuffix(first); err != nil {
			return err
		}
	}
	recs := make([]wal.Record, len(ents))
	for i, e := range ents {
		recs[i] = wal.Record{Index: e.Index, Term: e.Term, Type: uint8(e.Type), Data: e.Data}
		if e.Type == raftpb.EntryNormal {
			recs[i].BlockTime = entry.BlockTime(e.Data)
		}
	}
	if err := d.wal.Append(recs); err != nil {
		return err
	}
	return d.mem.Append(ents)
}

func (d *durableLog) close() error { return d.wal.Close() }

// InitialState implements raft.Storage with the derived membership.
func (d *durableLog) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	hs, _, err := d.mem.InitialState()
	return hs, d.confState, err
}

// Entries, Term, LastIndex, FirstIndex and Snapshot read the in-memory log.
func (d *durableLog) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	return d.mem.Entries(lo, hi, maxSize)
}
func (d *durableLog) Term(i uint64) (uint64, error)      { return d.mem.Term(i) }
func (d *durableLog) LastIndex() (uint64, error)         { return d.mem.LastIndex() }
func (d *durableLog) FirstIndex() (uint64, error)        { return d.mem.FirstIndex() }
func (d *durableLog) Snapshot() (raftpb.Snapshot, error) { return d.mem.Snapshot() }

var _ raft.Storage = (*durableLog)(nil)

// foldConfChanges applies the configuration changes at or below applied to
// confState and records the peer addresses they carry.
func (d *durableLog) foldConfChanges(applied uint64) error {
	first, _ := d.mem.FirstIndex()
	if applied < first {
		return nil
	}
	ents, err := d.mem.Entries(first, applied+1, ^uint64(0))
	if err != nil {
		return fmt.Errorf("replication: read configuration changes: %w", err)
	}
	voters := map[uint64]bool{}
	learners := map[uint64]bool{}
	for _, id := range d.confState.Voters {
		voters[id] = true
	}
	for _, id := range d.confState.Learners {
		learners[id] = true
	}
	for _, e := range ents {
		if e.Type != raftpb.EntryConfChange {
			continue
		}
		var cc raftpb.ConfChange
		if err := cc.Unmarshal(e.Data); err != nil {
			return fmt.Errorf("replication: corrupt configuration change at index %d: %w", e.Index, err)
		}
		d.notePeer(cc)
		switch cc.Type {
		case raftpb.ConfChangeAddNode:
			voters[cc.NodeID], learners[cc.NodeID] = true, false
		case raftpb.ConfChangeAddLearnerNode:
			learners[cc.NodeID], voters[cc.NodeID] = true, false
		case raftpb.ConfChangeRemoveNode:
			voters[cc.NodeID], learners[cc.NodeID] = false, false
		}
	}
	d.confState = raftpb.ConfState{Voters: setIDs(voters), Learners: setIDs(learners)}
	return nil
}

// notePeer remembers the address a configuration change carries.
func (d *durableLog) notePeer(cc raftpb.ConfChange) {
	switch cc.Type {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		if len(cc.Context) > 0 {
			d.peerAddrs[cc.NodeID] = string(cc.Context)
		}
	case raftpb.ConfChangeRemoveNode:
		delete(d.peerAddrs, cc.NodeID)
	}
}

func setIDs(m map[uint64]bool) []uint64 {
	var out []uint64
	for id, in := range m {
		if in {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
