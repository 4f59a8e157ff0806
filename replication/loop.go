package replication

import (
	"fmt"
	"sort"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// maxDrain bounds how many queued inputs one loop iteration takes before
// handling Ready, so many proposals share one WAL append and fsync.
const maxDrain = 512

// applyTask is handed from the raft loop to the applier, in order.
type applyTask struct {
	entries    []raftpb.Entry
	leadership *leadershipChange
	snapshot   *snapshotMeta
}

type leadershipChange struct {
	leader     bool
	term       uint64
	readyIndex uint64
}

// run is the Ready loop. Steps of one iteration:
//
//  1. Take inputs: a tick, proposals, peer messages, read requests, peer
//     reports (draining what is queued, for batching).
//  2. If raft has a Ready: persist a changed term or vote in the fence
//     manifest before anything is sent (G6).
//  3. A leader sends its messages now, in parallel with its own fsync.
//  4. Append the Ready's entries to the WAL and fsync (G1); only then are
//     they visible to raft's storage.
//  5. A follower or candidate sends its messages now: every
//     acknowledgement it sends covers durable entries only.
//  6. Apply configuration changes, hand committed entries to the applier,
//     answer read requests, and report role changes (after the entries, so
//     a new leader's ready index is its first entry of the term).
//  7. Advance.
func (n *Node) run() {
	defer n.wg.Done()
	defer close(n.donec)
	ticker := time.NewTicker(n.cfg.TickInterval)
	defer ticker.Stop()
	n.campaignIfAlone()
	prev := n.rn.BasicStatus()
	for {
		select {
		case <-ticker.C:
			n.rn.Tick()
			n.reads.tick(n.cfg.ElectionTicks * 2)
		case p := <-n.propc:
			n.propose(p)
			n.drainProposals()
		case m := <-n.recvc:
			n.step(m)
			n.drainMessages()
		case r := <-n.readc:
			n.reads.add(r)
		case d := <-n.snapc:
			if err := n.finishSnapshot(d); err != nil {
				n.halt(err)
			}
		case rep := <-n.reportc:
			if rep.snap {
				n.rn.ReportSnapshot(rep.id, rep.status)
			} else {
				n.rn.ReportUnreachable(rep.id)
			}
		case <-n.stopc:
			n.reads.failAll(ErrStopped)
			return
		}
		if n.Halted() != nil {
			n.reads.failAll(n.Halted())
			return
		}
		if n.removed.Load() && !n.rn.HasReady() {
			n.log.Info("replication: this node was removed from the cluster; stopping")
			n.reads.failAll(ErrStopped)
			return
		}
		n.reads.issue(n.rn)
		// Advancing can make more ready at once (a single voter commits what
		// it just persisted): handle it now rather than at the next tick.
		for n.rn.HasReady() {
			if err := n.handleReady(&prev); err != nil {
				n.halt(err)
				n.reads.failAll(err)
				return
			}
		}
	}
}

// campaignIfAlone elects a single-voter node at once instead of waiting an
// election timeout.
func (n *Node) campaignIfAlone() {
	st := n.rn.Status()
	voters := st.Config.Voters.IDs()
	if len(voters) == 1 {
		if _, ok := voters[n.cfg.NodeID]; ok {
			_ = n.rn.Campaign()
		}
	}
}

func (n *Node) propose(p proposal) {
	if p.cc != nil {
		p.res <- proposeResult{err: n.rn.ProposeConfChange(*p.cc)}
		return
	}
	for i, data := range p.batch {
		if err := n.rn.Propose(data); err != nil {
			p.res <- proposeResult{appended: i, err: err}
			return
		}
	}
	p.res <- proposeResult{appended: len(p.batch)}
}

func (n *Node) drainProposals() {
	for i := 0; i < maxDrain; i++ {
		select {
		case p := <-n.propc:
			n.propose(p)
		default:
			return
		}
	}
}

func (n *Node) step(m raftpb.Message) {
	if err := n.rn.Step(m); err != nil && err != raft.ErrStepPeerNotFound {
		n.log.Debug("replication: step", zap.Error(err), zap.Stringer("type", m.Type))
	}
}

func (n *Node) drainMessages() {
	for i := 0; i < maxDrain; i++ {
		select {
		case m := <-n.recvc:
			n.step(m)
		default:
			return
		}
	}
}

func (n *Node) handleReady(prev *raft.BasicStatus) error {
	rd := n.rn.Ready()
	if err := n.store.saveHardState(rd.HardState, n.cfg.NodeID, n.cfg.ClusterID); err != nil {
		return fmt.Errorf("replication: persist term and vote: %w", err)
	}
	isLeader := n.rn.BasicStatus().RaftState == raft.StateLeader
	if isLeader {
		n.cfg.Transport.Send(rd.Messages)
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := n.installSnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := n.store.appendEntries(rd.Entries); err != nil {
		return fmt.Errorf("replication: append to the log: %w", err)
	}
	if !isLeader {
		n.cfg.Transport.Send(rd.Messages)
	}
	if len(rd.CommittedEntries) > 0 {
		conf := false
		for _, e := range rd.CommittedEntries {
			if e.Type == raftpb.EntryConfChange || e.Type == raftpb.EntryConfChangeV2 {
				n.applyConfChange(e)
				conf = true
			}
		}
		n.enqueueApply(applyTask{entries: rd.CommittedEntries})
		if conf && !isLeader {
			defer n.campaignIfAlone()
		}
	}
	n.reads.resolve(rd.ReadStates)
	n.noteRoleChange(prev)
	n.rn.Advance(rd)
	n.publishStatus()
	return nil
}

func (n *Node) enqueueApply(t applyTask) {
	select {
	case n.applyc <- t:
	case <-n.stopc:
	}
}

// noteRoleChange tells the state machine about leadership changes.
func (n *Node) noteRoleChange(prev *raft.BasicStatus) {
	cur := n.rn.BasicStatus()
	wasLeader := prev.RaftState == raft.StateLeader
	isLeader := cur.RaftState == raft.StateLeader
	if wasLeader == isLeader && prev.Term == cur.Term && prev.Lead == cur.Lead {
		return
	}
	if cur.Lead != prev.Lead && cur.Lead != 0 {
		n.leaderChanges.Add(1)
	}
	if cur.Term != prev.Term || cur.Lead != prev.Lead {
		n.log.Info("replication: role change", zap.Uint64("term", cur.Term), zap.Uint64("leader", cur.Lead),
			zap.String("role", cur.RaftState.String()))
	}
	*prev = cur
	n.reads.leaderChanged()
	last, _ := n.store.mem.LastIndex()
	ch := &leadershipChange{leader: isLeader, term: cur.Term}
	if isLeader {
		ch.readyIndex = last
	}
	if isLeader || wasLeader {
		n.enqueueApply(applyTask{leadership: ch})
	}
}

// applyConfChange applies a committed membership change to raft and the
// transport. It runs on the raft loop because RawNode is not thread-safe.
func (n *Node) applyConfChange(e raftpb.Entry) {
	var cc raftpb.ConfChange
	if err := cc.Unmarshal(e.Data); err != nil {
		n.halt(fmt.Errorf("replication: corrupt configuration change at index %d: %w", e.Index, err))
		return
	}
	cs := n.rn.ApplyConfChange(cc)
	n.recordConfState(e.Index, *cs)
	n.store.notePeer(cc)
	switch cc.Type {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		if cc.NodeID != n.cfg.NodeID && len(cc.Context) > 0 {
			n.cfg.Transport.AddPeer(cc.NodeID, string(cc.Context))
			n.knownPeers.Store(cc.NodeID, string(cc.Context))
		}
		n.log.Info("replication: member added", zap.Uint64("id", cc.NodeID), zap.ByteString("addr", cc.Context))
	case raftpb.ConfChangeRemoveNode:
		if cc.NodeID != n.cfg.NodeID {
			n.cfg.Transport.RemovePeer(cc.NodeID)
			n.knownPeers.Delete(cc.NodeID)
		} else {
			n.removed.Store(true)
		}
		n.log.Info("replication: member removed", zap.Uint64("id", cc.NodeID))
	}
}

// applier hands committed entries and role changes to the state machine.
func (n *Node) applier() {
	defer n.wg.Done()
	for {
		var t applyTask
		select {
		case t = <-n.applyc:
		case <-n.stopc:
			return
		}
		if t.leadership != nil {
			n.sm.SetLeadership(t.leadership.leader, t.leadership.term, t.leadership.readyIndex)
			continue
		}
		if t.snapshot != nil {
			if err := n.restoreSnapshot(t.snapshot); err != nil {
				n.halt(err)
				return
			}
			continue
		}
		ents := make([]Entry, len(t.entries))
		for i, e := range t.entries {
			ents[i] = Entry{Index: e.Index, Term: e.Term, Type: e.Type, Data: e.Data}
		}
		if err := n.sm.Apply(ents); err != nil {
			n.halt(err)
			return
		}
		n.maybeSnapshot()
	}
}

func (n *Node) publishStatus() {
	bs := n.rn.BasicStatus()
	last, _ := n.store.mem.LastIndex()
	first, _ := n.store.mem.FirstIndex()
	st := &Status{NodeID: n.cfg.NodeID, Role: roleName(bs.RaftState), Term: bs.Term, LeaderID: bs.Lead,
		CommitIndex: bs.Commit, LastIndex: last, FirstIndex: first,
		Voters: sortedIDs(n.rn.Status().Config.Voters.IDs())}
	n.status.Store(st)
}

func roleName(s raft.StateType) string {
	switch s {
	case raft.StateLeader:
		return "leader"
	case raft.StateCandidate, raft.StatePreCandidate:
		return "candidate"
	}
	return "follower"
}

func sortedIDs(m map[uint64]struct{}) []uint64 {
	out := make([]uint64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// restoreSnapshot replaces the state machine's state with an installed
// snapshot (applier goroutine, in log order).
func (n *Node) restoreSnapshot(m *snapshotMeta) error {
	ss, ok := n.sm.(Snapshotter)
	if !ok {
		return fmt.Errorf("replication: state machine cannot restore snapshot %d", m.Index)
	}
	if n.sm.AppliedIndex() >= m.Index {
		return nil
	}
	if err := restoreFromFile(ss, n.cfg.DataDir, m.File); err != nil {
		return err
	}
	n.log.Info("replication: state restored from snapshot", zap.Uint64("index", m.Index))
	return nil
}
