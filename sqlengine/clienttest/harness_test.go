package clienttest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/internal/testnet"
	"github.com/chr2sql/chr2sql/server"
	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := testnet.LoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// cluster is size nodes in this process.
type cluster struct {
	t     *testing.T
	nodes map[uint64]*server.Server
}

func startCluster(t *testing.T, size int) *cluster {
	t.Helper()
	c := &cluster{t: t, nodes: map[uint64]*server.Server{}}
	peers := map[uint64]string{}
	for id := uint64(1); id <= uint64(size); id++ {
		peers[id] = freeAddr(t)
	}
	if size == 1 {
		peers = nil
	}
	for id := uint64(1); id <= uint64(size); id++ {
		raft := freeAddr(t)
		if peers != nil {
			raft = peers[id]
		}
		cfg := server.Config{DataDir: filepath.Join(t.TempDir(), fmt.Sprint(id)), NodeID: id, PGAddr: freeAddr(t),
			RaftAddr: raft, HTTPAddr: freeAddr(t), Peers: peers, TickInterval: 20 * time.Millisecond,
			Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named(fmt.Sprintf("n%d", id))}
		s, err := server.Start(cfg)
		if err != nil {
			t.Fatalf("start node %d: %v", id, err)
		}
		c.nodes[id] = s
	}
	t.Cleanup(func() {
		for _, s := range c.nodes {
			s.Stop()
		}
	})
	c.leader()
	return c
}

// leader waits for a ready leader.
func (c *cluster) leader() *server.Server {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.nodes {
			if st := s.Status(); st.Role == "leader" && st.Ready {
				return s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("no ready leader")
	return nil
}

// follower returns a node that is not the leader.
func (c *cluster) follower() *server.Server {
	l := c.leader()
	for _, s := range c.nodes {
		if s != l {
			return s
		}
	}
	c.t.Fatal("no follower")
	return nil
}

func url(s *server.Server) string {
	return "postgres://postgres@" + s.PGAddr() + "/postgres?sslmode=disable"
}

func connect(t *testing.T, s *server.Server) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
