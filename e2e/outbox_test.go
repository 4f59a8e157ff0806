package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chr2sql/chr2sql/examples/receiver/receiver"
)

func e2eSeed(t *testing.T) uint64 {
	seed := rand.Uint64()
	if s := os.Getenv("CHR2_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with CHR2_SEED=%d)", seed, seed)
	return seed
}

// flakySink is the example receiver (verifies signatures, dedupes by id,
// refuses lower fencing tokens) behind a real HTTP server that fails some
// requests and answers slowly, so attempts are in flight when a node dies.
type flakySink struct {
	srv  *httptest.Server
	h    *receiver.Handler
	mu   sync.Mutex
	rng  *rand.Rand
	hits map[string]int // requests per effect id, whatever the answer
}

func newFlakySink(t *testing.T, seed uint64, secret string) *flakySink {
	h, err := receiver.New(receiver.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	s := &flakySink{h: h, rng: rand.New(rand.NewPCG(seed, 99)), hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.Header.Get("webhook-id")]++
		fail := s.rng.IntN(5) == 0
		s.mu.Unlock()
		select {
		case <-time.After(20 * time.Millisecond): // slow enough to be caught mid-delivery
		case <-r.Context().Done():
			return
		}
		if fail {
			http.Error(w, "injected failure", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// TestOutboxSurvivesLeaderKill: a writer commits orders, each with an
// effect, on a three-node cluster; the sink fails one request in five; the
// leader is killed with kill -9 mid-delivery and restarted. Afterwards every
// committed effect was delivered at least once, no uncommitted effect was
// ever delivered, every signature verified, no lower fencing token was
// accepted after a higher one, and duplicates are counted.
func TestOutboxSurvivesLeaderKill(t *testing.T) {
	seed := e2eSeed(t)
	sink := newFlakySink(t, seed, testSecret)
	c := newCluster(t, 3)
	l := c.leader()
	l.mustPSQL("CREATE TABLE orders (n int PRIMARY KEY, effect text NOT NULL)",
		"INSERT INTO chr2.sinks (name, url, secret, retry_schedule, max_attempts) VALUES ('s', '"+sink.srv.URL+
			"', '"+testSecret+"', '50ms,100ms,200ms', 50)")

	var mu sync.Mutex
	acked := map[string]int{}      // effect id → order n, commit acknowledged
	unknown := map[int]bool{}      // orders whose commit outcome is unknown
	failedOrders := map[int]bool{} // attempts that definitely did not commit (retried)
	const orders = 150
	killAt := 50
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conn *pgx.Conn
		for i := 1; i <= orders; {
			if conn == nil {
				for _, a := range c.pgAddrs() {
					if cn, err := pgx.Connect(context.Background(), "postgres://postgres@"+a+"/postgres?connect_timeout=1"); err == nil {
						conn = cn
						break
					}
				}
				if conn == nil {
					time.Sleep(50 * time.Millisecond) // no node reachable yet
					continue
				}
			}
			id, err := placeOrder(conn, i)
			mu.Lock()
			switch {
			case err == nil:
				acked[id] = i
				i++
			case definite(err):
				// Certainly not committed (e.g. no leader yet): retry the same order.
				failedOrders[i] = true
				time.Sleep(20 * time.Millisecond)
			default:
				unknown[i] = true
				i++
			}
			mu.Unlock()
			if err != nil && conn.IsClosed() {
				conn = nil
			}
		}
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	waitFor(t, 30*time.Second, "orders before the kill", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= killAt
	})
	killed := c.leader()
	killed.kill()
	t.Logf("killed leader %d with kill -9", killed.id)
	<-done
	killed.start()
	killed.waitReady(30 * time.Second)

	nl := c.leader()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := nl.psql("SELECT count(*) FROM chr2.effects WHERE status <> 'delivered'")
		if err == nil && out == "0" {
			break
		}
		if time.Now().After(deadline) {
			st, _ := nl.psql("SELECT status, attempts, fencing_token, last_error, count(*) FROM chr2.effects GROUP BY 1, 2, 3, 4")
			t.Fatalf("not every committed effect was delivered (%v %s):\n%s\nleader log:\n%s", err, out, st, nl.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	dbEffects := map[string]int{}
	out := nl.mustPSQL("SELECT e.id, o.n FROM chr2.effects e JOIN orders o ON o.effect = e.id")
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		parts := strings.Split(line, "|")
		n, _ := strconv.Atoi(parts[1])
		dbEffects[parts[0]] = n
	}
	if cnt := nl.mustPSQL("SELECT count(*) FROM chr2.effects"); cnt != strconv.Itoa(len(dbEffects)) {
		t.Fatalf("%s effects but %d joined to their orders: data and effect did not commit together", cnt, len(dbEffects))
	}

	delivered := map[string]bool{}
	var lastToken uint64
	for _, d := range sink.h.Received() {
		delivered[d.ID] = true
		if _, ok := dbEffects[d.ID]; !ok {
			t.Fatalf("delivered effect %s was never committed", d.ID)
		}
		if d.FencingToken < lastToken {
			t.Fatalf("accepted token %d after token %d", d.FencingToken, lastToken)
		}
		lastToken = d.FencingToken
	}
	for id, n := range acked {
		if !delivered[id] {
			t.Fatalf("acknowledged order %d's effect %s was never delivered", n, id)
		}
	}
	for id := range dbEffects {
		if !delivered[id] {
			t.Fatalf("committed effect %s was never delivered", id)
		}
	}
	committedOrders := map[int]int{}
	for _, n := range dbEffects {
		committedOrders[n]++
	}
	for n, k := range committedOrders {
		if k > 1 {
			t.Fatalf("order %d committed %d times", n, k)
		}
	}
	st := sink.h.Stats()
	if st.Rejected != 0 {
		t.Fatalf("sink rejected %d requests (bad signature or malformed)", st.Rejected)
	}
	sink.mu.Lock()
	repeats := 0
	for _, n := range sink.hits {
		repeats += n - 1
	}
	sink.mu.Unlock()
	t.Logf("orders: %d acknowledged, %d unknown, %d failed; %d effects committed and delivered; "+
		"sink: %d accepted, %d duplicate deliveries (same id accepted again), %d fenced, %d repeated requests incl. injected failures",
		len(acked), len(unknown), len(failedOrders), len(dbEffects), st.Accepted, st.Duplicates, st.Fenced, repeats)
}

func placeOrder(conn *pgx.Conn, n int) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", err
	}
	var id string
	err = tx.QueryRow(ctx, `INSERT INTO chr2.effects (sink, payload) VALUES ('s', $1) RETURNING id`,
		fmt.Sprintf(`{"order": %d}`, n)).Scan(&id)
	if err == nil {
		_, err = tx.Exec(ctx, `INSERT INTO orders (n, effect) VALUES ($1, $2)`, n, id)
	}
	if err != nil {
		tx.Rollback(ctx)
		return "", err
	}
	return id, tx.Commit(ctx)
}

// definite reports errors after which the transaction certainly did not commit.
func definite(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code != "08007" && pe.Code != "57014"
}
