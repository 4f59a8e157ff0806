package sqlengine

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/chr2sql/chr2sql/sqlengine/funcs"
)

// digest accumulates a deterministic FNV-1a hash of what a statement
// returned and changed (guarantee G3).
type digest struct {
	h   uint64
	buf []byte
}

func newDigest() *digest { return &digest{h: fnvOffset} }

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func (d *digest) write(b []byte) {
	h := d.h
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	d.h = h
}

func (d *digest) value(v driver.Value) {
	b := d.buf[:0]
	switch x := v.(type) {
	case nil:
		b = append(b, 0)
	case int64:
		b = binary.AppendVarint(append(b, 1), x)
	case float64:
		b = binary.BigEndian.AppendUint64(append(b, 2), math.Float64bits(x))
	case string:
		b = binary.AppendUvarint(append(b, 3), uint64(len(x)))
		b = append(b, x...)
	case []byte:
		b = binary.AppendUvarint(append(b, 4), uint64(len(x)))
		b = append(b, x...)
	default:
		b = append(b, 5)
	}
	d.buf = b
	d.write(b)
}

func (d *digest) count(n int64) {
	var b [9]byte
	b[0] = 6
	binary.BigEndian.PutUint64(b[1:], uint64(n))
	d.write(b[:])
}

// stepResult is what running a statement's steps produced.
type stepResult struct {
	affected int64
	returned int64
	digest   uint64
	seqs     funcs.SequenceValues // currval/lastval the statement set (seqvals.go)
}

// runSteps executes a statement record's steps on c in order. visit, if not
// nil, receives each row of the step flagged stepRows (the slice is reused).
// Sequences named in seqs are loaded before and written back after.
func (c *sqliteConn) runSteps(ctx context.Context, rec *stmtRecord, visit func([]driver.Value) error) (stepResult, error) {
	var res stepResult
	c.env.Ctx = ctx // pg_sleep waits on it
	if err := c.env.LoadSequences(rec.Seqs, c.loadSequences); err != nil {
		return res, err
	}
	dg := newDigest()
	for i := 0; i < len(rec.Steps); i++ {
		st := rec.Steps[i]
		if st.Flags&stepFeed != 0 {
			if i+1 >= len(rec.Steps) {
				return res, errBadRecord
			}
			i++
			if err := c.runFeed(ctx, st, rec.Steps[i], dg); err != nil {
				return res, err
			}
			continue
		}
		if st.Flags&stepRows != 0 {
			err := c.query(ctx, st.SQL, st.Args, func(row []driver.Value) error {
				res.returned++
				for _, v := range row {
					dg.value(v)
				}
				if visit != nil {
					return visit(row)
				}
				return nil
			})
			if err != nil {
				return res, err
			}
			if st.Flags&stepCount != 0 {
				res.affected = res.returned
				dg.count(res.affected)
			}
			continue
		}
		n, err := c.exec(ctx, st.SQL, st.Args)
		if err != nil {
			return res, err
		}
		if st.Flags&stepCount != 0 {
			res.affected = n
			dg.count(n)
		}
	}
	if err := c.flushSequences(ctx); err != nil {
		return res, err
	}
	res.seqs = c.env.StatementSequenceValues()
	res.digest = dg.h
	return res, nil
}

// runFeed runs a step whose rows are not the statement's result but the
// arguments of the next step, which runs once per row: a data-modifying
// WITH query's RETURNING rows are captured into a temporary table this way
// (translate/cte_dml.go). The rows are read to the end before the first is
// written, and they feed the digest like result rows do.
func (c *sqliteConn) runFeed(ctx context.Context, src, dst stepRecord, dg *digest) error {
	var rows [][]any
	err := c.query(ctx, src.SQL, src.Args, func(row []driver.Value) error {
		r := make([]any, len(row))
		for i, v := range row {
			dg.value(v)
			r[i] = copyValue(v)
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := c.exec(ctx, dst.SQL, r); err != nil {
			return err
		}
	}
	return nil
}

func (c *sqliteConn) loadSequences(oids []uint32) (map[uint32]funcs.SequenceRow, error) {
	ids := make([]string, len(oids))
	for i, o := range oids {
		ids[i] = strconv.FormatUint(uint64(o), 10)
	}
	q := "SELECT oid, last_value, is_called, increment, min_value, max_value, cycle FROM _chr2_sequences WHERE oid IN (" +
		strings.Join(ids, ",") + ")"
	out := make(map[uint32]funcs.SequenceRow, len(oids))
	err := c.query(context.Background(), q, nil, func(r []driver.Value) error {
		out[uint32(r[0].(int64))] = funcs.SequenceRow{Last: r[1].(int64), Called: r[2].(int64) != 0,
			Increment: r[3].(int64), Min: r[4].(int64), Max: r[5].(int64), Cycle: r[6].(int64) != 0}
		return nil
	})
	return out, err
}

func (c *sqliteConn) flushSequences(ctx context.Context) error {
	dirty := c.env.DirtySequences()
	if len(dirty) == 0 {
		return nil
	}
	for _, oid := range sortedOIDs(dirty) {
		r := dirty[oid]
		called := int64(0)
		if r.Called {
			called = 1
		}
		if _, err := c.exec(ctx, "UPDATE _chr2_sequences SET last_value = ?1, is_called = ?2 WHERE oid = ?3",
			[]any{r.Last, called, int64(oid)}); err != nil {
			return err
		}
	}
	return nil
}

// sortedOIDs orders sequence write-backs deterministically: they are part
// of replicated state.
func sortedOIDs(m map[uint32]funcs.SequenceRow) []uint32 {
	oids := make([]uint32, 0, len(m))
	for oid := range m {
		oids = append(oids, oid)
	}
	slices.Sort(oids)
	return oids
}
