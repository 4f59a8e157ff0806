package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/fence"
	"github.com/chr2sql/chr2sql/outbox"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/replication"
	"github.com/chr2sql/chr2sql/replication/transport"
	"github.com/chr2sql/chr2sql/sqlengine"
	"github.com/chr2sql/chr2sql/vfs"
)

// Config configures one node.
type Config struct {
	DataDir  string
	NodeID   uint64
	PGAddr   string
	RaftAddr string
	HTTPAddr string
	// Peers are the initial voters (id → raft address); empty: single node.
	Peers map[uint64]string
	// Join is the HTTP address of a member of an existing cluster: the new
	// node takes that cluster's identity and waits to be added (chr2sql
	// member add) instead of bootstrapping a cluster of its own.
	Join   string
	Logger *zap.Logger

	Auth            pgwire.AuthConfig
	MaxConnections  int
	MaxMessageBytes int

	// Raft timing and snapshots.
	TickInterval    time.Duration
	ElectionTicks   int
	SnapshotEntries uint64
	KeepEntries     uint64

	Writer sqlengine.WriterConfig
	Outbox outbox.Options

	// FS holds the log and the manifest (nil: the real file system). Tests
	// pass a fault-injecting one.
	FS vfs.FS
	// Transport replaces the TCP peer transport (tests pass a memnet
	// endpoint). Its advertised metadata must include pg-addr and http-addr.
	Transport replication.Transport
}

// Server is one running node.
type Server struct {
	cfg       Config
	log       *zap.Logger
	lock      *os.File
	engine    *sqlengine.Engine
	node      *replication.Node
	trans     replication.Transport
	tcp       *transport.Transport // nil when a test transport is used
	pg        *pgwire.Server
	pgLn      net.Listener
	httpSrv   *http.Server
	httpLn    net.Listener
	registry  *prometheus.Registry
	duties    *leaderDuties
	clusterID uint64
	done      chan struct{}
	stopOnce  sync.Once
	removed   atomic.Bool // stopped because the cluster removed this node (removal.go)
}

// Start starts a node. It returns once every listener is bound.
func Start(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, registry: prometheus.NewRegistry(), done: make(chan struct{})}
	if err := s.start(); err != nil {
		s.Stop()
		return nil, err
	}
	go s.watch()
	go s.watchRemoval(2 * electionTimeout(cfg))
	return s, nil
}

func (s *Server) start() error {
	cfg := s.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	lock, err := lockDir(cfg.DataDir)
	if err != nil {
		return err
	}
	s.lock = lock
	clusterID, err := clusterIdentity(cfg, s.fs())
	if err != nil {
		return err
	}
	s.clusterID = clusterID
	proxy := &consensusProxy{}
	s.engine, err = sqlengine.Open(sqlengine.Config{Dir: filepath.Join(cfg.DataDir, "state"), NodeID: cfg.NodeID,
		Consensus: proxy, Logger: s.log, Writer: cfg.Writer, ServerVersion: "16.4 (chr2sql)", Registerer: s.registry})
	if err != nil {
		return err
	}
	if err := s.startReplication(proxy, clusterID); err != nil {
		return err
	}
	if err := s.startPG(); err != nil {
		return err
	}
	return s.startHTTP()
}

func (s *Server) startReplication(proxy *consensusProxy, clusterID uint64) error {
	cfg := s.cfg
	var err error
	var trans replication.Transport = cfg.Transport
	if trans == nil {
		tcp, err := transport.New(transport.Config{NodeID: cfg.NodeID, ClusterID: clusterID, ListenAddr: cfg.RaftAddr,
			Meta:   map[string]string{"pg-addr": cfg.PGAddr, "http-addr": cfg.HTTPAddr, "raft-addr": cfg.RaftAddr},
			Logger: s.log, Registerer: s.registry, Snapshots: replication.NewSnapshotStore(cfg.DataDir)})
		if err != nil {
			return fmt.Errorf("raft listener %s: %w", cfg.RaftAddr, err)
		}
		s.tcp, trans = tcp, tcp
	}
	s.trans = trans
	s.duties, err = newLeaderDuties(s.engine, s.log, s.registry, cfg.Outbox, electionTimeout(cfg))
	if err != nil {
		return err
	}
	sm := &stateMachine{engine: s.engine, duties: s.duties}
	s.node, err = replication.Start(replication.Config{NodeID: cfg.NodeID, ClusterID: clusterID, DataDir: cfg.DataDir,
		FS: s.fs(), Peers: cfg.Peers, Transport: s.trans, StateMachine: sm, Logger: s.log,
		TickInterval: cfg.TickInterval, ElectionTicks: cfg.ElectionTicks, SnapshotEntries: cfg.SnapshotEntries,
		KeepEntries: cfg.KeepEntries, Join: cfg.Join != ""})
	if err != nil {
		return err
	}
	proxy.set(s.node)
	s.duties.node = s.node
	s.engine.SetForwarder(&leaderForwarder{node: s.node, trans: s.trans, waitTime: 5 * time.Second})
	return nil
}

func (s *Server) startPG() error {
	var err error
	s.pg, err = pgwire.NewServer(pgwire.Config{Addr: s.cfg.PGAddr, Engine: s.engine, Logger: s.log,
		MaxConnections: s.cfg.MaxConnections, MaxMessageBytes: s.cfg.MaxMessageBytes, Auth: s.cfg.Auth,
		ServerVersion: "16.4 (chr2sql)", Metrics: pgwire.NewMetrics(s.registry)})
	if err != nil {
		return err
	}
	s.pgLn, err = net.Listen("tcp", s.cfg.PGAddr)
	if err != nil {
		return fmt.Errorf("postgres listener %s: %w", s.cfg.PGAddr, err)
	}
	go func() {
		if err := s.pg.Serve(s.pgLn); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, pgwire.ErrServerClosed) {
			s.log.Error("postgres listener stopped", zap.Error(err))
		}
	}()
	return nil
}

// watch stops the node when it halts, so the process can exit non-zero.
func (s *Server) watch() {
	<-s.node.Done()
	if err := s.node.Halted(); err != nil {
		s.log.Error("node halted; stopping", zap.Error(err))
	}
	s.Stop()
}

// Done is closed once the node has stopped (Stop, a halt, or its removal).
func (s *Server) Done() <-chan struct{} { return s.done }

// Removed reports whether the node stopped because the cluster removed it:
// it applied its own removal, or a leader's status proved it.
func (s *Server) Removed() bool {
	return s.removed.Load() || s.node != nil && s.node.Removed()
}

// Halted returns why the node halted, if it did.
func (s *Server) Halted() error {
	if s.node != nil {
		if err := s.node.Halted(); err != nil {
			return err
		}
	}
	if s.engine != nil {
		return s.engine.Halted()
	}
	return nil
}

// Stop stops the node; it is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.httpSrv != nil {
			s.httpSrv.Close()
		}
		if s.pg != nil {
			s.pg.Close()
		}
		if s.duties != nil {
			s.duties.stop()
		}
		if s.node != nil {
			s.node.Stop()
		} else if s.trans != nil {
			s.trans.Close()
		}
		if s.engine != nil {
			s.engine.Close()
		}
		if s.lock != nil {
			s.lock.Close()
		}
		close(s.done)
	})
}

// PGAddr, RaftAddr and HTTPAddr return the bound listener addresses.
func (s *Server) PGAddr() string { return s.pgLn.Addr().String() }

// HTTPAddr returns the bound HTTP address.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// RaftAddr returns the bound raft address.
func (s *Server) RaftAddr() string {
	if s.tcp == nil {
		return s.cfg.RaftAddr
	}
	return s.tcp.Addr().String()
}

func (s *Server) fs() vfs.FS {
	if s.cfg.FS != nil {
		return s.cfg.FS
	}
	return vfs.OS
}

// Engine exposes the node's SQL engine (tests compare state through it).
func (s *Server) Engine() *sqlengine.Engine { return s.engine }

// Node exposes the raft node.
func (s *Server) Node() *replication.Node { return s.node }

// electionTimeout is the minimum raft election timeout of the node.
func electionTimeout(cfg Config) time.Duration {
	tick, ticks := cfg.TickInterval, cfg.ElectionTicks
	if tick == 0 {
		tick = 100 * time.Millisecond
	}
	if ticks == 0 {
		ticks = 10
	}
	return tick * time.Duration(ticks)
}

// lockDir takes an exclusive lock on the data directory so two processes
// never share it.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data dir %s is not writable: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data dir %s is in use by another chr2sql process", dir)
	}
	return f, nil
}

// clusterIdentity returns the stored cluster id, or derives one from the
// initial voters for a new node.
func clusterIdentity(cfg Config, fsys vfs.FS) (uint64, error) {
	m, err := fence.Open(fsys, cfg.DataDir)
	if err != nil {
		return 0, err
	}
	if m.Exists() && m.State().ClusterID != 0 {
		return m.State().ClusterID, nil
	}
	if cfg.Join != "" {
		return joinIdentity(cfg.Join)
	}
	ids := make([]uint64, 0, len(cfg.Peers))
	for id := range cfg.Peers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	h := fnv.New64a()
	h.Write([]byte("chr2sql-cluster"))
	for _, id := range ids {
		h.Write([]byte(strconv.FormatUint(id, 10) + "=" + cfg.Peers[id] + ";"))
	}
	if len(ids) == 0 {
		h.Write([]byte(strconv.FormatUint(cfg.NodeID, 10)))
	}
	return h.Sum64(), nil
}

// joinIdentity asks a member of the cluster to join for its identity.
func joinIdentity(addr string) (uint64, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/status")
	if err != nil {
		return 0, fmt.Errorf("--join %s: %w", addr, err)
	}
	defer resp.Body.Close()
	var st struct {
		ClusterID uint64 `json:"cluster_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.ClusterID == 0 {
		return 0, fmt.Errorf("--join %s: no cluster identity in /status (%v)", addr, err)
	}
	return st.ClusterID, nil
}

// consensusProxy lets the engine be created before the raft node it
// proposes to.
type consensusProxy struct {
	mu   sync.RWMutex
	node *replication.Node
}

func (p *consensusProxy) set(n *replication.Node) {
	p.mu.Lock()
	p.node = n
	p.mu.Unlock()
}

func (p *consensusProxy) get() (*replication.Node, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.node == nil {
		return nil, replication.ErrStopped
	}
	return p.node, nil
}

func (p *consensusProxy) ProposeBatch(ctx context.Context, batch [][]byte) (int, error) {
	n, err := p.get()
	if err != nil {
		return 0, err
	}
	return n.ProposeBatch(ctx, batch)
}

func (p *consensusProxy) ReadIndex(ctx context.Context) (uint64, error) {
	n, err := p.get()
	if err != nil {
		return 0, err
	}
	return n.ReadIndex(ctx)
}

var _ sqlengine.Consensus = (*consensusProxy)(nil)
