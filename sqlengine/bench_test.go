package sqlengine

import (
	"context"
	"testing"

	"github.com/chr2sql/chr2sql/pgwire"
)

// BenchmarkWriterInsert measures the engine's own cost of an autocommit
// INSERT (parse-once prepared statement, bind, execute in the writer,
// propose, apply, epoch commit) against the in-memory log, i.e. without
// network, raft or fsync. It bounds how many transactions one writer can
// serialise per second.
func BenchmarkWriterInsert(b *testing.B) {
	log := newMemLog(1)
	defer log.stop()
	e, err := Open(Config{Dir: b.TempDir(), NodeID: 1, Consensus: log})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	log.engines = append(log.engines, e)
	e.SetLeadership(true, 1, log.appendEmpty())
	s, err := e.NewSession(context.Background(), pgwire.SessionInfo{User: "postgres", Database: "postgres"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	run := func(sql string, params ...any) {
		stmts, err := s.Parse(ctx, sql, nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := stmts[0].Bind(ctx, params)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := p.Execute(ctx, 0, &collector{}); err != nil {
			b.Fatal(err)
		}
		if err := s.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
	run(`CREATE TABLE bi (id bigserial PRIMARY KEY, c int, n int, pad text)`)
	stmts, err := s.Parse(ctx, `INSERT INTO bi (c, n, pad) VALUES ($1, $2, 'x')`, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := stmts[0].Bind(ctx, []any{int64(1), int64(i)})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := p.Execute(ctx, 0, &collector{}); err != nil {
			b.Fatal(err)
		}
		if err := s.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
