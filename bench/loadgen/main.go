// Command loadgen drives a PostgreSQL-protocol server with concurrent
// clients and reports committed transactions per second and latency. The
// same binary runs against PostgreSQL and chr2sql, so the two are measured
// with the same client, workload and machine (see bench/run.sh).
//
//	loadgen -dsn URL -clients 8 -duration 10s -workload insert|tpcb|effects
//
// Workloads:
//
//	insert   one single-row INSERT per transaction (autocommit)
//	tpcb     pgbench's simple-update script (-N): BEGIN; UPDATE accounts;
//	         SELECT balance; INSERT history; END
//	effects  a transaction inserting a row and an effect for a local webhook
//	         sink (chr2sql only); reports effects delivered per second and
//	         commit-to-delivery latency
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

const accounts = 100000

func main() {
	dsn := flag.String("dsn", "postgres://postgres@127.0.0.1:5433/postgres", "server to drive")
	clients := flag.Int("clients", 1, "concurrent clients, one connection each")
	duration := flag.Duration("duration", 10*time.Second, "measurement time")
	workload := flag.String("workload", "insert", "insert, tpcb or effects")
	setup := flag.Bool("setup", true, "create the workload's tables first")
	label := flag.String("label", "", "label printed with the result")
	flag.Parse()
	if err := run(*dsn, *clients, *duration, *workload, *setup, *label); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(dsn string, clients int, d time.Duration, workload string, setup bool, label string) error {
	ctx := context.Background()
	var sink *effectSink
	if workload == "effects" {
		var err error
		if sink, err = startSink(); err != nil {
			return err
		}
	}
	if setup {
		if err := prepare(ctx, dsn, workload, sink); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
	}
	conns := make([]*pgx.Conn, clients)
	for i := range conns {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		conns[i] = c
	}
	var stop atomic.Bool
	var errs atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			for n := 0; !stop.Load(); n++ {
				t0 := time.Now()
				if err := oneTx(ctx, conns[i], workload, rng, i, n, sink); err != nil {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}(i)
	}
	time.Sleep(d) // the measurement window; clients run meanwhile
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	res := map[string]any{"label": label, "workload": workload, "clients": clients,
		"tps": float64(len(all)) / elapsed.Seconds(), "p50_ms": ms(pct(all, 50)), "p99_ms": ms(pct(all, 99)),
		"errors": errs.Load(), "transactions": len(all)}
	if sink != nil {
		sink.report(res, len(all))
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(s []time.Duration, p int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[(len(s)-1)*p/100]
}

func prepare(ctx context.Context, dsn, workload string, sink *effectSink) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var stmts []string
	switch workload {
	case "insert":
		stmts = []string{`DROP TABLE IF EXISTS bench_insert`,
			`CREATE TABLE bench_insert (id bigserial PRIMARY KEY, client int NOT NULL, n int NOT NULL, pad text NOT NULL)`}
	case "tpcb":
		stmts = []string{`DROP TABLE IF EXISTS bench_history`, `DROP TABLE IF EXISTS bench_accounts`,
			`CREATE TABLE bench_accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler text)`,
			`CREATE TABLE bench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler text)`}
	case "effects":
		stmts = []string{`DROP TABLE IF EXISTS bench_orders`,
			`CREATE TABLE bench_orders (id bigserial PRIMARY KEY, client int NOT NULL, n int NOT NULL)`,
			`DELETE FROM chr2.effects WHERE sink = 'bench'`, `DELETE FROM chr2.sinks WHERE name = 'bench'`,
			fmt.Sprintf(`INSERT INTO chr2.sinks (name, url, concurrency) VALUES ('bench', 'http://%s/in', 64)`, sink.addr)}
	default:
		return fmt.Errorf("unknown workload %q", workload)
	}
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if workload == "tpcb" {
		batch := &pgx.Batch{}
		for aid := 1; aid <= accounts; aid++ {
			batch.Queue(`INSERT INTO bench_accounts VALUES ($1, 1, 0, '')`, aid)
			if batch.Len() == 1000 {
				if err := c.SendBatch(ctx, batch).Close(); err != nil {
					return err
				}
				batch = &pgx.Batch{}
			}
		}
	}
	return nil
}

func oneTx(ctx context.Context, c *pgx.Conn, workload string, rng *rand.Rand, client, n int, sink *effectSink) error {
	switch workload {
	case "insert":
		_, err := c.Exec(ctx, `INSERT INTO bench_insert (client, n, pad) VALUES ($1, $2, $3)`, client, n, "payload-0123456789")
		return err
	case "tpcb":
		aid, delta := rng.IntN(accounts)+1, rng.IntN(10001)-5000
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `UPDATE bench_accounts SET abalance = abalance + $1 WHERE aid = $2`, delta, aid); err != nil {
			return err
		}
		var bal int
		if err := tx.QueryRow(ctx, `SELECT abalance FROM bench_accounts WHERE aid = $1`, aid).Scan(&bal); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bench_history (tid, bid, aid, delta, mtime) VALUES ($1, 1, $2, $3, CURRENT_TIMESTAMP)`,
			client, aid, delta); err != nil {
			return err
		}
		return tx.Commit(ctx)
	case "effects":
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `INSERT INTO bench_orders (client, n) VALUES ($1, $2)`, client, n); err != nil {
			return err
		}
		var id string
		if err := tx.QueryRow(ctx, `INSERT INTO chr2.effects (sink, payload) VALUES ('bench', $1) RETURNING id`,
			fmt.Sprintf(`{"client": %d, "n": %d}`, client, n)).Scan(&id); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		sink.committed(id)
		return nil
	}
	return fmt.Errorf("unknown workload %q", workload)
}

// effectSink is a local webhook endpoint measuring commit-to-delivery time.
type effectSink struct {
	addr      string
	mu        sync.Mutex
	commitAt  map[string]time.Time
	delivered map[string]time.Duration
	early     map[string]time.Time // delivered before the client saw the commit
	first     time.Time
	last      time.Time
}

func startSink() (*effectSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &effectSink{addr: ln.Addr().String(), commitAt: map[string]time.Time{}, delivered: map[string]time.Duration{},
		early: map[string]time.Time{}}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		id, now := r.Header.Get("webhook-id"), time.Now()
		s.mu.Lock()
		if s.first.IsZero() {
			s.first = now
		}
		s.last = now
		if at, ok := s.commitAt[id]; ok {
			if _, dup := s.delivered[id]; !dup {
				s.delivered[id] = now.Sub(at)
			}
		} else {
			s.early[id] = now
		}
		s.mu.Unlock()
	}))
	return s, nil
}

func (s *effectSink) committed(id string) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.early[id]; ok {
		// Delivery raced the commit acknowledgement to the client.
		s.delivered[id] = at.Sub(now)
		delete(s.early, id)
	}
	s.commitAt[id] = now
}

// report waits (bounded) for the deliveries to finish and adds the numbers.
func (s *effectSink) report(res map[string]any, committed int) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		n := len(s.delivered)
		s.mu.Unlock()
		if n >= committed {
			break
		}
		time.Sleep(10 * time.Millisecond) // deliveries finish asynchronously
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var lat []time.Duration
	for _, d := range s.delivered {
		if d < 0 {
			d = 0
		}
		lat = append(lat, d)
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	res["effects_delivered"] = len(lat)
	if span := s.last.Sub(s.first).Seconds(); span > 0 {
		res["effects_per_sec"] = float64(len(lat)) / span
	}
	res["delivery_p50_ms"] = ms(pct(lat, 50))
	res["delivery_p99_ms"] = ms(pct(lat, 99))
}
