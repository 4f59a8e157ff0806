package server

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// benchNode starts a single-node server for benchmarks.
func benchNode(b *testing.B) *Server {
	b.Helper()
	s, err := Start(Config{DataDir: filepath.Join(b.TempDir(), "n"), NodeID: 1, PGAddr: "127.0.0.1:0",
		RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Stop)
	for s.Status().Role != "leader" || !s.Status().Ready {
		runtime.Gosched() // the node elects itself within milliseconds
	}
	return s
}

// BenchmarkInsert measures single-row autocommit INSERTs per second through
// the whole stack (pgx, pgwire, translation, writer, raft, WAL fsync, apply).
func BenchmarkInsert(b *testing.B) {
	for _, clients := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := benchNode(b)
			ctx := context.Background()
			setup, err := pgx.Connect(ctx, "postgres://postgres@"+s.PGAddr()+"/postgres")
			if err != nil {
				b.Fatal(err)
			}
			defer setup.Close(ctx)
			if _, err := setup.Exec(ctx, `CREATE TABLE bi (id bigserial PRIMARY KEY, c int, n int, pad text)`); err != nil {
				b.Fatal(err)
			}
			conns := make([]*pgx.Conn, clients)
			for i := range conns {
				if conns[i], err = pgx.Connect(ctx, "postgres://postgres@"+s.PGAddr()+"/postgres"); err != nil {
					b.Fatal(err)
				}
				defer conns[i].Close(ctx)
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N/clients + 1
			for i := range conns {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					for n := 0; n < per; n++ {
						if _, err := conns[i].Exec(ctx, `INSERT INTO bi (c, n, pad) VALUES ($1, $2, 'x')`, i, n); err != nil {
							b.Error(err)
							return
						}
					}
				}(i)
			}
			wg.Wait()
			b.ReportMetric(float64(per*clients)/b.Elapsed().Seconds(), "tx/s")
			benchReport(b, s)
		})
	}
}

func init() {
	benchReport = func(b *testing.B, s *Server) {
		st := s.Node().WALStats()
		b.ReportMetric(float64(st.Records)/float64(max(st.FsyncRounds, 1)), "records/fsync")
		b.ReportMetric(float64(st.FsyncRounds)/b.Elapsed().Seconds(), "fsync/s")
	}
}

var benchReport func(*testing.B, *Server)
