package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/chr2sql/chr2sql/replication"
	"github.com/chr2sql/chr2sql/replication/memnet"
	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

// testSeed returns CHR2_SEED or a fresh seed, and prints it.
func testSeed(t *testing.T) uint64 {
	seed := rand.Uint64()
	if s := os.Getenv("CHR2_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CHR2_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with CHR2_SEED=%d)", seed, seed)
	return seed
}

// faultCluster is a cluster on a fault-injecting network whose nodes keep
// their logs on fault-injecting file systems.
type faultCluster struct {
	*testCluster
	net *memnet.Network
	fs  map[uint64]*faultfs.FS
}

func newFaultCluster(t *testing.T, seed uint64) *faultCluster {
	t.Helper()
	return newFaultClusterWith(t, seed, nil)
}

func newFaultClusterWith(t *testing.T, seed uint64, tweak func(*Config)) *faultCluster {
	t.Helper()
	fc := &faultCluster{net: memnet.New(memnet.Options{Seed: seed, Mode: memnet.RealTime}), fs: map[uint64]*faultfs.FS{}}
	t.Cleanup(fc.net.Close)
	for id := uint64(1); id <= 3; id++ {
		fc.fs[id] = faultfs.New(int64(seed + id))
	}
	fc.testCluster = &testCluster{t: t, dirs: map[uint64]string{}, cfgs: map[uint64]Config{}, nodes: map[uint64]*Server{}}
	peers := map[uint64]string{1: "n1", 2: "n2", 3: "n3"}
	for id := uint64(1); id <= 3; id++ {
		cfg := Config{DataDir: filepath.Join(t.TempDir(), fmt.Sprint(id)), NodeID: id, PGAddr: loopbackAddr(t),
			RaftAddr: peers[id], HTTPAddr: loopbackAddr(t), Peers: peers, TickInterval: 20 * time.Millisecond,
			FS: fc.fs[id], Logger: zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)).Named(fmt.Sprintf("n%d", id)),
			SnapshotEntries: 300, KeepEntries: 50}
		if tweak != nil {
			tweak(&cfg)
		}
		fc.cfgs[id] = cfg
		fc.start(id)
	}
	t.Cleanup(func() {
		for _, s := range fc.nodes {
			s.Stop()
		}
	})
	return fc
}

// start (re)starts a node on a fresh network endpoint.
func (fc *faultCluster) start(id uint64) {
	cfg := fc.cfgs[id]
	fc.net.SetEndpointConfig(id, memnet.EndpointConfig{
		Meta:      map[string]string{"pg-addr": cfg.PGAddr, "http-addr": cfg.HTTPAddr, "raft-addr": cfg.RaftAddr},
		Snapshots: replication.NewSnapshotStore(cfg.DataDir)})
	cfg.Transport = fc.net.Endpoint(id)
	s, err := Start(cfg)
	if err != nil {
		fc.t.Fatalf("start node %d: %v", id, err)
	}
	fc.nodes[id] = s
}

// crash stops a node as a power cut would: everything its log did not
// fsync is lost before it starts again.
func (fc *faultCluster) crash(id uint64) {
	fc.fs[id].CrashAfter(0)
	fc.nodes[id].Stop()
	delete(fc.nodes, id)
	fc.fs[id].Crash()
}

// kvInput and kvOutput are the operations of the porcupine model.
type kvInput struct {
	write bool
	key   int
	value int
}

type kvOutput struct {
	value   int
	unknown bool // a write whose outcome is unknown
}

var kvModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		for _, op := range h {
			k := op.Input.(kvInput).key
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(byKey))
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return 0 },
	Step: func(state, input, output any) (bool, any) {
		in, out := input.(kvInput), output.(kvOutput)
		if in.write {
			return true, in.value
		}
		return out.value == state.(int), state
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		if in.write {
			return fmt.Sprintf("put(%d, %d) unknown=%v", in.key, in.value, out.unknown)
		}
		return fmt.Sprintf("get(%d) -> %d", in.key, out.value)
	},
}

// history records operations from concurrent clients.
type history struct {
	mu     sync.Mutex
	start  time.Time
	ops    []porcupine.Operation
	failed []failedWrite // writes left out of ops as definitely not applied
}

// failedWrite is kept for explaining a failed check: if one of these took
// effect after all, its error code lied.
type failedWrite struct {
	client     int
	in         kvInput
	call, ret  int64
	code, text string
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(op porcupine.Operation) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// definitelyFailed reports errors after which the write certainly did not
// take effect.
func definitelyFailed(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "57P03", "25P02":
		return true
	}
	return false
}

// client runs random reads and writes against one node until stop.
func runClient(t *testing.T, id int, addr string, h *history, rng *rand.Rand, keys int, nextVal func() int, stop <-chan struct{}) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		select {
		case <-stop:
			return
		default:
		}
		if conn == nil {
			c, err := pgx.Connect(context.Background(), "postgres://postgres@"+addr+"/postgres?connect_timeout=2")
			if err != nil {
				time.Sleep(20 * time.Millisecond) // the node may be down; try again
				continue
			}
			conn = c
		}
		in := kvInput{write: rng.IntN(2) == 0, key: rng.IntN(keys)}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		call := h.now()
		var err error
		var got int
		if in.write {
			in.value = nextVal()
			_, err = conn.Exec(ctx, `UPDATE kv SET v = $1 WHERE k = $2`, in.value, in.key)
		} else {
			err = conn.QueryRow(ctx, `SELECT v FROM kv WHERE k = $1`, in.key).Scan(&got)
		}
		cancel()
		ret := h.now()
		switch {
		case err == nil:
			h.add(porcupine.Operation{ClientId: id, Input: in, Call: call, Output: kvOutput{value: got}, Return: ret})
		case in.write && definitelyFailed(err):
			var pe *pgconn.PgError
			errors.As(err, &pe)
			h.mu.Lock()
			h.failed = append(h.failed, failedWrite{client: id, in: in, call: call, ret: ret, code: pe.Code, text: pe.Message})
			h.mu.Unlock()
		case in.write:
			// Unknown outcome: it may take effect at any time after the call.
			h.add(porcupine.Operation{ClientId: id, Input: in, Call: call, Output: kvOutput{unknown: true}, Return: 1 << 62})
		}
		if err != nil && conn.IsClosed() {
			conn = nil
		}
	}
}

// TestLinearizableUnderFaults runs clients on every node while the network
// drops, delays and reorders messages, the leader is isolated, a follower
// loses its un-fsynced log in a crash and a minority is partitioned; the
// recorded history must be linearizable and the nodes must end identical.
func TestLinearizableUnderFaults(t *testing.T) {
	seed := testSeed(t)
	fc := newFaultCluster(t, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	const keys = 4
	conn := connect(t, fc.leader())
	if _, err := conn.Exec(context.Background(), `CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < keys; k++ {
		if _, err := conn.Exec(context.Background(), `INSERT INTO kv VALUES ($1, 0)`, k); err != nil {
			t.Fatal(err)
		}
	}
	fc.net.SetFaults(memnet.Faults{DropRate: 0.02, ReorderRate: 0.02, MaxDelay: 2 * time.Millisecond})

	h := &history{start: time.Now()}
	var valMu sync.Mutex
	val := 0
	nextVal := func() int { valMu.Lock(); defer valMu.Unlock(); val++; return val }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		addr := fc.cfgs[uint64(i%3+1)].PGAddr
		crng := rand.New(rand.NewPCG(seed, uint64(i+10)))
		wg.Add(1)
		go func(i int) { defer wg.Done(); runClient(t, i, addr, h, crng, keys, nextVal, stop) }(i)
	}
	fc.runFaultSchedule(rng)
	close(stop)
	wg.Wait()

	fc.net.SetFaults(memnet.Faults{})
	fc.net.Heal()
	fc.converge()
	// Final linearizable reads of every key close the history.
	l := fc.leader()
	fin := connect(t, l)
	for k := 0; k < keys; k++ {
		call := h.now()
		var v int
		if err := fin.QueryRow(context.Background(), `SELECT v FROM kv WHERE k = $1`, k).Scan(&v); err != nil {
			t.Fatal(err)
		}
		h.add(porcupine.Operation{ClientId: 99, Input: kvInput{key: k}, Call: call, Output: kvOutput{value: v}, Return: h.now()})
	}
	t.Logf("history: %d operations; network: %+v", len(h.ops), fc.net.Stats())
	if res := porcupine.CheckOperationsTimeout(kvModel, h.ops, 60*time.Second); res != porcupine.Ok {
		t.Fatalf("history is not linearizable (%v)\n%s", res, explainNonLinearizable(h))
	}
}

// explainNonLinearizable lists, in call order, the operations of the first
// key whose history alone is not linearizable (client i ran on node i%3+1;
// client 99 made the final reads on the leader).
func explainNonLinearizable(h *history) string {
	for _, part := range kvModel.Partition(h.ops) {
		if porcupine.CheckOperationsTimeout(kvModel, part, 10*time.Second) == porcupine.Ok {
			continue
		}
		slices.SortFunc(part, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
		var b strings.Builder
		for _, op := range part {
			ret := "never"
			if op.Return < 1<<62 {
				ret = time.Duration(op.Return).String()
			}
			fmt.Fprintf(&b, "client %d  %v .. %s  %s\n", op.ClientId, time.Duration(op.Call),
				ret, kvModel.DescribeOperation(op.Input, op.Output))
		}
		key := part[0].Input.(kvInput).key
		for _, f := range h.failed {
			if f.in.key == key {
				fmt.Fprintf(&b, "failed: client %d  %v .. %v  put(%d, %d): %s %s\n", f.client, time.Duration(f.call),
					time.Duration(f.ret), f.in.key, f.in.value, f.code, f.text)
			}
		}
		return b.String()
	}
	return "(every key alone is linearizable)"
}

// runFaultSchedule applies the seeded sequence of faults while clients run.
func (fc *faultCluster) runFaultSchedule(rng *rand.Rand) {
	t := fc.t
	pause := func(d time.Duration) { time.Sleep(d) } // the workload runs meanwhile
	pause(500 * time.Millisecond)

	leader := fc.leader().Status().NodeID
	t.Logf("isolating leader %d", leader)
	fc.net.Isolate(leader)
	pause(time.Duration(800+rng.IntN(400)) * time.Millisecond)
	fc.net.Heal()
	pause(400 * time.Millisecond)

	victim := fc.aFollower(rng)
	t.Logf("crashing follower %d (its un-fsynced log is lost)", victim)
	fc.crash(victim)
	pause(300 * time.Millisecond)
	fc.start(victim)
	pause(500 * time.Millisecond)

	minority := fc.aFollower(rng)
	t.Logf("partitioning follower %d away", minority)
	others := []uint64{}
	for id := uint64(1); id <= 3; id++ {
		if id != minority {
			others = append(others, id)
		}
	}
	fc.net.Partition([]uint64{minority}, others)
	pause(700 * time.Millisecond)
	fc.net.Heal()
	pause(500 * time.Millisecond)
}

func (fc *faultCluster) aFollower(rng *rand.Rand) uint64 {
	l := fc.leader().Status().NodeID
	ids := []uint64{}
	for id := range fc.nodes {
		if id != l {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		fc.t.Fatal("no follower")
	}
	sortU64(ids)
	return ids[rng.IntN(len(ids))]
}

func sortU64(s []uint64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
