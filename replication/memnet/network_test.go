package memnet

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// runScript drives a fixed, faulty workload in Step mode and returns the
// global delivery trace.
func runScript(t *testing.T, seed uint64) string {
	n := New(Options{Seed: seed})
	defer n.Close()
	n.SetFaults(Faults{DropRate: 0.1, DuplicateRate: 0.1, ReorderRate: 0.2, MaxDelay: 5 * time.Millisecond})
	recs := cluster(t, n, 3)
	var trace []string // Step mode: handlers run on this goroutine, in delivery order
	for _, r := range recs[1:] {
		r.sink = func(d delivery) { trace = append(trace, d.String()) }
	}
	for round := uint64(0); round < 200; round++ {
		for from := uint64(1); from <= 3; from++ {
			to := from%3 + 1
			n.Endpoint(from).Send([]raftpb.Message{msg(from, to, round), msg(from, 6-from-to, round)})
		}
		if round == 50 {
			n.Partition([]uint64{1}, []uint64{2, 3})
		}
		if round == 100 {
			n.Heal()
		}
		n.Advance(time.Millisecond)
		if round%3 == 0 {
			n.DeliverOne()
		} else {
			n.DeliverAll()
		}
	}
	n.Advance(time.Second)
	for n.DeliverAll() > 0 {
	}
	return strings.Join(trace, "\n")
}

func TestStepModeDeterministic(t *testing.T) {
	seed := testSeed(t)
	a, b := runScript(t, seed), runScript(t, seed)
	if a != b {
		t.Fatal("same seed produced different delivery orders")
	}
	if c := runScript(t, seed+1); c == a {
		t.Fatal("different seeds produced identical traces: faults are not driven by the seed")
	}
	if !strings.Contains(a, "unreachable") {
		t.Fatal("the partition never produced an unreachable report")
	}
}

func TestPartitionsAndCuts(t *testing.T) {
	n := New(Options{Seed: 1})
	defer n.Close()
	recs := cluster(t, n, 4)
	// reach reports which directed links deliver right now.
	reach := func() string {
		before := make([]int, 5)
		for i := 1; i <= 4; i++ {
			before[i] = len(recs[i].msgs())
		}
		for from := uint64(1); from <= 4; from++ {
			for to := uint64(1); to <= 4; to++ {
				if from != to {
					n.Endpoint(from).Send([]raftpb.Message{msg(from, to, 0)})
				}
			}
		}
		for n.DeliverAll() > 0 {
		}
		var links []string
		for to := 1; to <= 4; to++ {
			for _, d := range recs[to].msgs()[before[to]:] {
				links = append(links, fmt.Sprintf("%d>%d", d.from, to))
			}
		}
		return strings.Join(links, " ")
	}
	all := "2>1 3>1 4>1 1>2 3>2 4>2 1>3 2>3 4>3 1>4 2>4 3>4"
	if got := reach(); got != all {
		t.Fatalf("healthy network: %s", got)
	}
	n.Partition([]uint64{1, 2})
	if got := reach(); got != "2>1 1>2 4>3 3>4" {
		t.Fatalf("partition {1,2} | rest: %s", got)
	}
	n.Partition([]uint64{1}, []uint64{2}, []uint64{3, 4})
	if got := reach(); got != "4>3 3>4" {
		t.Fatalf("three groups: %s", got)
	}
	n.Heal()
	n.Isolate(3)
	if got := reach(); got != "2>1 4>1 1>2 4>2 1>4 2>4" {
		t.Fatalf("isolate 3: %s", got)
	}
	n.Heal()
	n.Cut(1, 2)
	n.PartitionOneWay([]uint64{3}, []uint64{4})
	if got := reach(); got != "2>1 3>1 4>1 3>2 4>2 1>3 2>3 4>3 1>4 2>4" {
		t.Fatalf("cut 1>2 and one-way 3>4: %s", got)
	}
	n.Restore(1, 2)
	n.Restore(3, 4)
	if got := reach(); got != all {
		t.Fatalf("after restore: %s", got)
	}
	// The blocked sender was told, once per peer per pending report.
	if recs[1].count("unreachable") == 0 || recs[3].count("unreachable") == 0 {
		t.Fatal("blocked senders got no unreachable report")
	}
}

func TestInFlightMessagesLostToNewPartition(t *testing.T) {
	n := New(Options{Seed: 1})
	defer n.Close()
	recs := cluster(t, n, 2)
	n.Endpoint(1).Send([]raftpb.Message{msg(1, 2, 1)})
	n.Isolate(2)
	n.DeliverAll()
	if got := len(recs[2].msgs()); got != 0 {
		t.Fatalf("message crossed a partition that started while it was in flight")
	}
	n.DeliverAll() // the unreachable report
	if recs[1].count("unreachable") != 1 {
		t.Fatalf("sender events: %v", recs[1].events())
	}
	if s := n.Stats(); s.DroppedBlocked != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// within reports whether got is within k standard deviations of a binomial
// count with n trials and probability p.
func within(got, trials int, p, k float64) bool {
	mean := float64(trials) * p
	sd := math.Sqrt(float64(trials) * p * (1 - p))
	return math.Abs(float64(got)-mean) <= k*sd+1
}

func TestFaultStatistics(t *testing.T) {
	seed := testSeed(t)
	const trials = 20000
	cases := []struct {
		name string
		f    Faults
	}{
		{"drop", Faults{DropRate: 0.3}},
		{"duplicate", Faults{DuplicateRate: 0.2}},
		{"reorder", Faults{ReorderRate: 0.25}},
		{"none", Faults{MaxDelay: 3 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := New(Options{Seed: seed})
			defer n.Close()
			recs := cluster(t, n, 2)
			n.SetLinkFaults(1, 2, tc.f)
			// Bursts of 100 so reordered messages have later ones to be
			// overtaken by.
			for i := 0; i < trials; i += 100 {
				batch := make([]raftpb.Message, 100)
				for j := range batch {
					batch[j] = msg(1, 2, uint64(i+j))
				}
				n.Endpoint(1).Send(batch)
				n.Advance(10 * time.Millisecond)
				n.DeliverAll()
			}
			got := recs[2].msgs()
			late, seen, maxIdx := 0, map[uint64]bool{}, uint64(0)
			for i, d := range got {
				if i > 0 && d.idx < maxIdx && !seen[d.idx] {
					late++
				}
				seen[d.idx] = true
				maxIdx = max(maxIdx, d.idx)
			}
			s := n.Stats()
			switch tc.name {
			case "drop":
				if !within(int(s.DroppedRandom), trials, 0.3, 5) || len(got) != trials-int(s.DroppedRandom) {
					t.Fatalf("dropped %d of %d, delivered %d", s.DroppedRandom, trials, len(got))
				}
			case "duplicate":
				if !within(len(got)-trials, trials, 0.2, 5) || int(s.Duplicated) != len(got)-trials {
					t.Fatalf("delivered %d for %d sent, %d duplicated", len(got), trials, s.Duplicated)
				}
			case "reorder":
				if !within(int(s.Reordered), trials, 0.25, 5) {
					t.Fatalf("reordered %d of %d", s.Reordered, trials)
				}
				// Almost every reordered message is overtaken by a later one.
				if late < int(s.Reordered)*8/10 || late > int(s.Reordered) {
					t.Fatalf("%d messages arrived late for %d reordered", late, s.Reordered)
				}
			case "none":
				if late != 0 || len(got) != trials {
					t.Fatalf("delay jitter without reorder: %d late, %d delivered", late, len(got))
				}
			}
		})
	}
}

func TestDelayDistributionStepMode(t *testing.T) {
	seed := testSeed(t)
	n := New(Options{Seed: seed})
	defer n.Close()
	recs := cluster(t, n, 2)
	n.SetFaults(Faults{MinDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond})
	const samples = 2000
	var sum time.Duration
	for i := 0; i < samples; i++ {
		n.Endpoint(1).Send([]raftpb.Message{msg(1, 2, uint64(i))})
		sent := n.Now()
		for recs[2].msgCount() == i {
			n.Advance(time.Millisecond)
			n.DeliverAll()
		}
		d := n.Now() - sent
		if d < 10*time.Millisecond || d > 20*time.Millisecond {
			t.Fatalf("message %d delivered after %v", i, d)
		}
		sum += d
	}
	// Uniform on whole milliseconds 10..20 rounded up: mean ≈ 15.5ms; the
	// standard error over 2000 samples is ≈ 0.07ms.
	if mean := sum / samples; mean < 15*time.Millisecond || mean > 16*time.Millisecond {
		t.Fatalf("mean delay %v, want ≈15.5ms", mean)
	}
	if s := n.Stats(); s.Delayed != samples {
		t.Fatalf("stats %+v", s)
	}
}

func TestSnapshotsThroughMemnet(t *testing.T) {
	n := New(Options{Seed: 1})
	defer n.Close()
	s1, s2 := newMemStore(), newMemStore()
	s1.put("snap-9", []byte("the state at index 9"))
	n.SetEndpointConfig(1, EndpointConfig{Snapshots: s1, Meta: map[string]string{"pg-addr": "a"}})
	n.SetEndpointConfig(2, EndpointConfig{Snapshots: s2})
	recs := cluster(t, n, 2)
	storedFirst := false
	recs[2].onProcess = func(m raftpb.Message) error {
		if m.Type == raftpb.MsgSnap {
			_, storedFirst = s2.get("snap-9")
		}
		return nil
	}
	snap := raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Snapshot: &raftpb.Snapshot{Data: []byte("snap-9")}}
	n.Endpoint(1).Send([]raftpb.Message{snap})
	n.DeliverAll() // MsgSnap
	n.DeliverAll() // the report
	if !storedFirst {
		t.Fatal("MsgSnap processed before ReceiveSnapshot stored the file")
	}
	if got, _ := s2.get("snap-9"); string(got) != "the state at index 9" {
		t.Fatalf("receiver stored %q", got)
	}
	if ev := recs[1].events(); len(ev) != 1 || ev[0].kind != "snap" || ev[0].snap != raft.SnapshotFinish {
		t.Fatalf("sender events %v", ev)
	}
	if meta := n.Endpoint(2).PeerMeta(1); meta["pg-addr"] != "a" {
		t.Fatalf("meta %v", meta)
	}

	// Failures: receiver refuses; sender lacks the file; partitioned.
	s2.refuse = errors.New("disk full")
	n.Endpoint(1).Send([]raftpb.Message{snap})
	n.DeliverAll()
	s2.refuse = nil
	missing := snap
	missing.Snapshot = &raftpb.Snapshot{Data: []byte("nope")}
	n.Endpoint(1).Send([]raftpb.Message{missing})
	n.Isolate(2)
	n.Endpoint(1).Send([]raftpb.Message{snap})
	for n.DeliverAll() > 0 {
	}
	var statuses []raft.SnapshotStatus
	for _, d := range recs[1].events() {
		if d.kind == "snap" {
			statuses = append(statuses, d.snap)
		}
	}
	want := []raft.SnapshotStatus{raft.SnapshotFinish, raft.SnapshotFailure, raft.SnapshotFailure, raft.SnapshotFailure}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Fatalf("snapshot reports %v, want %v", statuses, want)
	}
	if got := len(recs[2].msgs()); got != 1 {
		t.Fatalf("receiver processed %d MsgSnaps, want only the successful one", got)
	}
}

func TestRestartedEndpointLosesInFlight(t *testing.T) {
	n := New(Options{Seed: 1})
	defer n.Close()
	recs := cluster(t, n, 2)
	n.Endpoint(1).Send([]raftpb.Message{msg(1, 2, 1)})
	old := n.Endpoint(2)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if n.Endpoint(2) == old {
		t.Fatal("Endpoint after Close returned the closed incarnation")
	}
	fresh := newRecorder(2)
	ep := n.Endpoint(2)
	ep.AddPeer(1, "node-1")
	if err := ep.Start(fresh); err != nil {
		t.Fatal(err)
	}
	n.DeliverAll()
	if len(fresh.msgs())+len(recs[2].msgs()) != 0 {
		t.Fatal("a message addressed to the old incarnation was delivered")
	}
	n.Endpoint(1).Send([]raftpb.Message{msg(1, 2, 2)})
	n.DeliverAll()
	if got := fresh.msgs(); len(got) != 1 || got[0].idx != 2 {
		t.Fatalf("new incarnation got %v", got)
	}
	if err := ep.Start(fresh); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
}

func TestUnknownPeerDropped(t *testing.T) {
	n := New(Options{Seed: 1})
	defer n.Close()
	recs := cluster(t, n, 2)
	n.Endpoint(1).RemovePeer(2)
	n.Endpoint(1).Send([]raftpb.Message{msg(1, 2, 1), msg(1, 2, 2)})
	n.DeliverAll()
	if len(recs[2].msgs()) != 0 || recs[1].count("unreachable") != 1 {
		t.Fatalf("receiver %v, sender %v", recs[2].events(), recs[1].events())
	}
	if s := n.Stats(); s.DroppedUnknown != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRealTimeMode(t *testing.T) {
	seed := testSeed(t)
	n := New(Options{Seed: seed, Mode: RealTime})
	defer n.Close()
	recs := cluster(t, n, 3)
	n.SetFaults(Faults{MinDelay: 20 * time.Millisecond, MaxDelay: 30 * time.Millisecond})
	start := time.Now()
	const count = 500
	for i := uint64(0); i < count; i++ {
		n.Endpoint(1).Send([]raftpb.Message{msg(1, 2, i), msg(1, 3, i)})
	}
	for _, r := range recs[2:] {
		r.waitFor(t, "all messages", func() bool { return len(r.msgs()) == count })
		for i, d := range r.msgs() {
			if d.idx != uint64(i) {
				t.Fatalf("node %d: message %d has index %d: per-link order broken", r.id, i, d.idx)
			}
		}
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("delivered within %v despite a 20ms minimum delay", d)
	}
	// Echo through handlers that send from Process, then a partition.
	n.SetFaults(Faults{})
	n.Isolate(3)
	n.Endpoint(1).Send([]raftpb.Message{msg(1, 3, 999)})
	recs[1].waitFor(t, "unreachable report", func() bool { return recs[1].count("unreachable") > 0 })
	if got := len(recs[3].msgs()); got != count {
		t.Fatalf("isolated node received %d", got)
	}
}

func TestRealTimeInboxOverflow(t *testing.T) {
	n := New(Options{Seed: 1, Mode: RealTime, QueueLen: 8})
	defer n.Close()
	recs := cluster(t, n, 2)
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release) // runs before n.Close, so the held goroutine can exit
	recs[2].onProcess = func(m raftpb.Message) error {
		if m.Index == 0 {
			close(entered)
			<-release // hold the delivery goroutine so the inbox fills
		}
		return nil
	}
	n.Endpoint(1).Send([]raftpb.Message{msg(1, 2, 0)})
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("first message never delivered")
	}
	batch := make([]raftpb.Message, 100)
	for i := range batch {
		batch[i] = msg(1, 2, uint64(i+1))
	}
	n.Endpoint(1).Send(batch)
	recs[1].waitFor(t, "overflow report", func() bool { return recs[1].count("unreachable") > 0 })
	if s := n.Stats(); s.DroppedOverflow != 100-8 {
		t.Fatalf("overflow drops %d, want 92", s.DroppedOverflow)
	}
}
