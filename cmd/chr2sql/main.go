// Command chr2sql runs a chr2sql node and inspects its files.
//
//	chr2sql start [flags]              run a node (every flag also as CHR2_<FLAG>)
//	chr2sql wal verify --data-dir DIR  exit 0 intact, 2 torn tail, 1 corruption
//	chr2sql wal dump --data-dir DIR    print every record
//	chr2sql member add|remove|list     change or show the voters of a running cluster
//
// This file is wiring only: flags, configuration, signals.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/server"
	"github.com/chr2sql/chr2sql/sqlengine"
	"github.com/chr2sql/chr2sql/vfs"
	"github.com/chr2sql/chr2sql/wal"
)

const usage = `chr2sql — a replicated SQL database that speaks PostgreSQL

Usage:
  chr2sql start [flags]              run a node (chr2sql start --help lists the flags)
  chr2sql wal verify --data-dir DIR  check the log: exit 0 intact, 2 torn tail, 1 corruption
  chr2sql wal dump --data-dir DIR    print one line per log record
  chr2sql member list   --http-addr H:P
  chr2sql member add    --http-addr H:P --node-id N --raft-addr H:P
  chr2sql member remove --http-addr H:P --node-id N
                                     change the voters of a running cluster (any member's HTTP address;
                                     start the new node first with --join)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "start":
		return start(args[1:], stderr)
	case "wal":
		return walCommand(args[1:], stdout, stderr)
	case "member":
		return memberCommand(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "chr2sql: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// startFlags are the flags of `chr2sql start`.
type startFlags struct {
	dataDir, pgAddr, raftAddr, httpAddr, peers string
	join                                       string
	nodeID                                     uint64
	logFormat, logLevel                        string
	authMethod, passwordFile                   string
	maxConnections                             int
	commitTimeout, tick                        time.Duration
	idleTxTimeout                              time.Duration
}

func newStartFlagSet(f *startFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.dataDir, "data-dir", "./chr2-data", "directory for the log (wal/), the fencing manifest and the state database")
	fs.Uint64Var(&f.nodeID, "node-id", 1, "this node's id (unique in the cluster, > 0)")
	fs.StringVar(&f.pgAddr, "pg-addr", "127.0.0.1:5433", "PostgreSQL protocol listen address")
	fs.StringVar(&f.raftAddr, "raft-addr", "127.0.0.1:7433", "peer (raft) listen address")
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8433", "HTTP address for /healthz /readyz /status /metrics")
	fs.StringVar(&f.peers, "peers", "", `initial voters as "1=host:port,2=host:port,…" by raft address, this node included; empty: a single node (ignored once the node has state)`)
	fs.StringVar(&f.join, "join", "", "HTTP address of a member of an existing cluster to join (then run chr2sql member add)")
	fs.StringVar(&f.logFormat, "log-format", "console", "log format: console or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.authMethod, "auth-method", "trust", "client authentication: trust, password, md5 or scram-sha-256")
	fs.StringVar(&f.passwordFile, "password-file", "", `file of "user:password" lines (required unless --auth-method=trust)`)
	fs.IntVar(&f.maxConnections, "max-connections", 100, "maximum concurrent client connections (53300 beyond)")
	fs.DurationVar(&f.commitTimeout, "commit-timeout", 5*time.Second, "how long a commit waits for a quorum before 08007")
	fs.DurationVar(&f.tick, "raft-tick", 100*time.Millisecond, "raft tick; elections take 10 ticks, heartbeats 1")
	fs.DurationVar(&f.idleTxTimeout, "idle-tx-timeout", 30*time.Second, "end a write transaction idle this long (25P03)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: chr2sql start [flags]\n\nEvery flag can also be set as CHR2_<FLAG> (e.g. CHR2_DATA_DIR).\n\n")
		fs.PrintDefaults()
	}
	return fs
}

// applyEnv sets every flag not given on the command line from CHR2_<FLAG>.
func applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "CHR2_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("invalid %s: %v", env, e)
			}
		}
	})
	return err
}

func start(args []string, stderr io.Writer) int {
	var f startFlags
	fs := newStartFlagSet(&f, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintf(stderr, "chr2sql: %v\n", err)
		return 2
	}
	log, err := newLogger(f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "chr2sql: %v\n", err)
		return 2
	}
	defer log.Sync()
	cfg, err := serverConfig(&f, log)
	if err != nil {
		fmt.Fprintf(stderr, "chr2sql: %v\n", err)
		return 2
	}
	srv, err := server.Start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "chr2sql: cannot start: %v\n", err)
		return 1
	}
	log.Info("chr2sql started", zap.Uint64("node_id", cfg.NodeID), zap.String("pg_addr", srv.PGAddr()),
		zap.String("raft_addr", srv.RaftAddr()), zap.String("http_addr", srv.HTTPAddr()), zap.String("data_dir", cfg.DataDir))
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case sig := <-sigs:
		log.Info("shutting down", zap.String("signal", sig.String()))
		srv.Stop()
		return 0
	case <-srv.Done():
		if err := srv.Halted(); err != nil {
			fmt.Fprintf(stderr, "chr2sql: node halted: %v\n", err)
			return 3
		}
		if srv.Removed() {
			fmt.Fprintf(stderr, "chr2sql: node %d was removed from the cluster; its data directory is no longer a member's\n", cfg.NodeID)
		}
		return 0
	}
}

func serverConfig(f *startFlags, log *zap.Logger) (server.Config, error) {
	if f.nodeID == 0 {
		return server.Config{}, errors.New("--node-id must be greater than 0")
	}
	peers, err := parsePeers(f.peers)
	if err != nil {
		return server.Config{}, err
	}
	if f.join != "" && len(peers) > 0 {
		return server.Config{}, errors.New("--join and --peers exclude each other")
	}
	if len(peers) > 0 {
		if _, ok := peers[f.nodeID]; !ok {
			return server.Config{}, fmt.Errorf("--peers does not name this node (id %d)", f.nodeID)
		}
	}
	auth, err := authConfig(f.authMethod, f.passwordFile)
	if err != nil {
		return server.Config{}, err
	}
	dir, err := filepath.Abs(f.dataDir)
	if err != nil {
		return server.Config{}, fmt.Errorf("--data-dir: %v", err)
	}
	return server.Config{DataDir: dir, NodeID: f.nodeID, PGAddr: f.pgAddr, RaftAddr: f.raftAddr, HTTPAddr: f.httpAddr,
		Peers: peers, Join: f.join, Logger: log, Auth: auth, MaxConnections: f.maxConnections, TickInterval: f.tick,
		Writer: sqlengine.WriterConfig{CommitTimeout: f.commitTimeout, IdleTxTimeout: f.idleTxTimeout}}, nil
}

func parsePeers(s string) (map[uint64]string, error) {
	peers := map[uint64]string{}
	if strings.TrimSpace(s) == "" {
		return peers, nil
	}
	for _, part := range strings.Split(s, ",") {
		idText, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		id, err := strconv.ParseUint(idText, 10, 64)
		if !ok || err != nil || id == 0 || addr == "" {
			return nil, fmt.Errorf(`--peers: %q is not "id=host:port"`, part)
		}
		if _, dup := peers[id]; dup {
			return nil, fmt.Errorf("--peers: node %d listed twice", id)
		}
		peers[id] = addr
	}
	return peers, nil
}

func authConfig(method, passwordFile string) (pgwire.AuthConfig, error) {
	if method == "trust" {
		return pgwire.AuthConfig{Method: method}, nil
	}
	switch method {
	case "password", "md5", "scram-sha-256":
	default:
		return pgwire.AuthConfig{}, fmt.Errorf("--auth-method %q: use trust, password, md5 or scram-sha-256", method)
	}
	if passwordFile == "" {
		return pgwire.AuthConfig{}, fmt.Errorf("--auth-method %s needs --password-file", method)
	}
	data, err := os.ReadFile(passwordFile)
	if err != nil {
		return pgwire.AuthConfig{}, fmt.Errorf("--password-file: %v", err)
	}
	users := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, pass, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return pgwire.AuthConfig{}, fmt.Errorf("--password-file line %d is not user:password", i+1)
		}
		users[user] = pass
	}
	return pgwire.AuthConfig{Method: method, Users: users}, nil
}

func newLogger(format, level string) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.Set(level); err != nil {
		return nil, fmt.Errorf("--log-level %q: %v", level, err)
	}
	var cfg zap.Config
	switch format {
	case "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.Development = false
		cfg.DisableStacktrace = true
	case "json":
		cfg = zap.NewProductionConfig()
	default:
		return nil, fmt.Errorf("--log-format %q: use console or json", format)
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	return cfg.Build()
}

func walCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "dump") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("wal "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "./chr2-data", "the node's data directory")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintf(stderr, "chr2sql: %v\n", err)
		return 2
	}
	dir := filepath.Join(*dataDir, "wal")
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(stderr, "chr2sql: no log at %s: %v\n", dir, err)
		return 1
	}
	if args[0] == "dump" {
		if err := wal.Dump(vfs.OS, dir, stdout); err != nil {
			fmt.Fprintf(stderr, "chr2sql: %v\n", err)
			return 1
		}
		return 0
	}
	rep, err := wal.Verify(vfs.OS, dir)
	if err != nil && rep.ExitCode() == 0 {
		fmt.Fprintf(stderr, "chr2sql: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, rep.String())
	return rep.ExitCode()
}
