package outbox

import (
	"fmt"
	"slices"
	"time"
)

// The compare-and-set UPDATEs. SET parameters come first so the CAS part can
// end in either "fencing_token = $n" or "fencing_token IS NULL" without
// renumbering: two fixed texts per kind, friendly to a statement cache and
// free of the "$n IS NULL" form whose parameter type an engine must guess.
const (
	sqlClaim = "UPDATE chr2.effects SET status = $1, attempts = $2, fencing_token = $3, claimed_at = $4 " +
		"WHERE id = $5 AND status = $6 AND attempts = $7 AND "
	sqlAck = "UPDATE chr2.effects SET status = $1, delivered_at = $2 " +
		"WHERE id = $3 AND status = $4 AND attempts = $5 AND "
	sqlFail = "UPDATE chr2.effects SET status = $1, last_error = $2, next_attempt_at = $3 " +
		"WHERE id = $4 AND status = $5 AND attempts = $6 AND "
)

func updateStmt(t Transition) Stmt {
	var sql string
	var args []any
	switch t.Kind {
	case KindClaim:
		sql, args = sqlClaim, []any{string(t.To), int64(t.Attempts), int64(t.FencingToken), t.At}
	case KindAck:
		sql, args = sqlAck, []any{string(t.To), t.At}
	case KindFail:
		sql, args = sqlFail, []any{string(t.To), nullString(t.LastError), nullTime(t.NextAttemptAt)}
	default:
		panic(fmt.Sprintf("outbox: transition of unknown kind %q", t.Kind))
	}
	args = append(args, t.EffectID, string(t.From.Status), int64(t.From.Attempts))
	if t.From.FencingToken == 0 {
		sql += "fencing_token IS NULL"
	} else {
		args = append(args, int64(t.From.FencingToken))
		sql += fmt.Sprintf("fencing_token = $%d", len(args))
	}
	return Stmt{SQL: sql, Args: args}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// scanEffect reads a row of effectCols.
func scanEffect(row []any) (Effect, error) {
	if len(row) != 14 {
		return Effect{}, fmt.Errorf("%w: effects row has %d columns, want 14", ErrBadRow, len(row))
	}
	r := rowReader{row: row}
	e := Effect{
		ID: r.str(0), Seq: r.int(1), Sink: r.str(2), Payload: r.bytes(3), OrderingKey: r.str(4),
		RunAt: r.time(5), Status: Status(r.str(6)), Attempts: int(r.int(7)), LastError: r.str(8),
		FencingToken: uint64(r.int(9)), CreatedAt: r.time(10), ClaimedAt: r.time(11),
		NextAttemptAt: r.time(12), DeliveredAt: r.time(13),
	}
	if r.err == nil && !e.Status.Valid() {
		r.err = fmt.Errorf("%w: effect %q has status %q", ErrBadRow, e.ID, e.Status)
	}
	if r.err == nil && r.row[9] != nil && r.int(9) < 1 {
		r.err = fmt.Errorf("%w: effect %q has fencing_token %d", ErrBadRow, e.ID, r.int(9))
	}
	return e, r.err
}

// rowReader converts pgval values, remembering the first mismatch. NULL
// reads as the zero value.
type rowReader struct {
	row []any
	err error
}

func (r *rowReader) keep(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *rowReader) errOr(v any) any {
	if r.err != nil {
		return r.err
	}
	return v
}

func (r *rowReader) bad(i int, want string) {
	r.keep(fmt.Errorf("%w: column %d is %T, want %s", ErrBadRow, i, r.row[i], want))
}

func (r *rowReader) str(i int) string {
	switch v := r.row[i].(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	}
	r.bad(i, "text")
	return ""
}

func (r *rowReader) bytes(i int) []byte {
	switch v := r.row[i].(type) {
	case nil:
		return nil
	case string:
		return []byte(v)
	case []byte:
		return slices.Clone(v)
	}
	r.bad(i, "text or bytea")
	return nil
}

func (r *rowReader) int(i int) int64 {
	switch v := r.row[i].(type) {
	case nil:
		return 0
	case int64:
		return v
	}
	r.bad(i, "int64")
	return 0
}

func (r *rowReader) time(i int) time.Time {
	switch v := r.row[i].(type) {
	case nil:
		return time.Time{}
	case time.Time:
		return v.UTC()
	}
	r.bad(i, "time.Time")
	return time.Time{}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
