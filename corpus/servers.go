package corpus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNoPostgres is returned when the PostgreSQL server binaries are missing.
var ErrNoPostgres = errors.New("corpus: PostgreSQL server binaries not found")

// DefaultPGBin is where Debian's postgresql-15 package installs initdb and
// pg_ctl.
const DefaultPGBin = "/usr/lib/postgresql/15/bin"

// Postgres is a reference server: either an existing one (URL) or a
// throw-away cluster this process started.
type Postgres struct {
	URL     string // admin connection to the "postgres" database
	stop    func()
	counter int
}

// StartPostgres initialises a cluster in a temporary directory and starts
// it on a free loopback port. As root, initdb and the server run as the
// "postgres" user (PostgreSQL refuses to run as root).
func StartPostgres(binDir string) (*Postgres, error) {
	if _, err := os.Stat(filepath.Join(binDir, "initdb")); err != nil {
		return nil, fmt.Errorf("%w in %s: %v", ErrNoPostgres, binDir, err)
	}
	dir, err := os.MkdirTemp("", "corpus-pg")
	if err != nil {
		return nil, err
	}
	// No context: the server must stay stoppable after the caller's own
	// context has ended; pg_ctl -w bounds its own waits.
	asUser := exec.Command
	if os.Geteuid() == 0 {
		pgUser, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("corpus: running as root needs the postgres user: %w", err)
		}
		if err := chownTree(dir, pgUser); err != nil {
			return nil, err
		}
		asUser = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := asUser(filepath.Join(binDir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C.UTF-8").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir)
	if out, err := asUser(filepath.Join(binDir, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	stop := func() {
		asUser(filepath.Join(binDir, "pg_ctl"), "-D", data, "-m", "immediate", "stop").Run()
		os.RemoveAll(dir)
	}
	return &Postgres{URL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), stop: stop}, nil
}

func chownTree(dir string, u *user.User) error {
	var uid, gid int
	if _, err := fmt.Sscan(u.Uid, &uid); err != nil {
		return err
	}
	if _, err := fmt.Sscan(u.Gid, &gid); err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}

// ExistingPostgres uses a server someone else runs.
func ExistingPostgres(url string) *Postgres { return &Postgres{URL: url} }

// Stop shuts a started server down (no-op for an existing one).
func (p *Postgres) Stop() {
	if p.stop != nil {
		p.stop()
	}
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// Fresh creates a new database for the file and connects to it.
func (p *Postgres) Fresh(ctx context.Context, file string) (*pgconn.PgConn, func(), error) {
	admin, err := connect(ctx, p.URL)
	if err != nil {
		return nil, nil, err
	}
	defer admin.Close(ctx)
	p.counter++
	db := fmt.Sprintf("corpus_%d_%s", p.counter, unsafeName.ReplaceAllString(strings.ToLower(file), "_"))
	if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db).Close(); err != nil {
		return nil, nil, err
	}
	if err := admin.Exec(ctx, "CREATE DATABASE "+db).Close(); err != nil {
		return nil, nil, err
	}
	cfg, err := pgconn.ParseConfig(p.URL)
	if err != nil {
		return nil, nil, err
	}
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, db)
	conn, err := connect(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	return conn, func() { conn.Close(context.Background()) }, nil
}

// Version returns the server's version string.
func (p *Postgres) Version(ctx context.Context) string { return serverVersion(ctx, p.URL) }

// Chr2 starts a fresh single-node chr2sql from Binary for every file.
type Chr2 struct {
	Binary string
	// LogDir keeps each node's output (empty: discarded with the node).
	LogDir string
}

// Fresh starts a node on free ports in a new data directory and connects.
func (c *Chr2) Fresh(ctx context.Context, file string) (*pgconn.PgConn, func(), error) {
	dir, err := os.MkdirTemp("", "corpus-chr2")
	if err != nil {
		return nil, nil, err
	}
	url, stop, err := c.start(ctx, dir, file)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	conn, err := connect(ctx, url)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return conn, func() { conn.Close(context.Background()); stop() }, nil
}

func (c *Chr2) start(ctx context.Context, dir, file string) (string, func(), error) {
	ports := make([]int, 3)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return "", nil, err
		}
		ports[i] = p
	}
	pgAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	httpAddr := fmt.Sprintf("127.0.0.1:%d", ports[2])
	cmd := exec.Command(c.Binary, "start", "--data-dir", filepath.Join(dir, "data"), "--pg-addr", pgAddr,
		"--raft-addr", fmt.Sprintf("127.0.0.1:%d", ports[1]), "--http-addr", httpAddr, "--raft-tick", "20ms")
	logPath := filepath.Join(dir, "node.log")
	if c.LogDir != "" {
		logPath = filepath.Join(c.LogDir, file+".log")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return "", nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return "", nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	stop := func() { cmd.Process.Kill(); <-exited; os.RemoveAll(dir) }
	if err := waitReady(ctx, httpAddr, exited); err != nil {
		stop()
		return "", nil, err
	}
	return "postgres://postgres@" + pgAddr + "/postgres?sslmode=disable", stop, nil
}

// waitReady polls GET /readyz until it answers 200, the process exits, or
// the deadline passes.
func waitReady(ctx context.Context, httpAddr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("chr2sql exited while starting")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("chr2sql not ready after 30s")
		}
	}
}

// Version starts a node once and returns its version() string.
func (c *Chr2) Version(ctx context.Context) string {
	dir, err := os.MkdirTemp("", "corpus-chr2")
	if err != nil {
		return err.Error()
	}
	url, stop, err := c.start(ctx, dir, "version")
	if err != nil {
		return err.Error()
	}
	defer stop()
	return serverVersion(ctx, url)
}

func serverVersion(ctx context.Context, url string) string {
	conn, err := connect(ctx, url)
	if err != nil {
		return err.Error()
	}
	defer conn.Close(ctx)
	res, err := Exec(ctx, conn, "SELECT version()")
	if err != nil || res.Failed() || len(res.Rows) != 1 || res.Rows[0][0] == nil {
		return fmt.Sprintf("unknown (%v %s)", err, res.Message)
	}
	return *res.Rows[0][0]
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
