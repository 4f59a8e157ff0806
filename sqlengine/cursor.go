package sqlengine

import (
	"context"
	"strconv"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// SQL-level cursors (DECLARE … CURSOR, FETCH, MOVE, CLOSE). A cursor runs
// its query once, at DECLARE, and keeps the rows in the session (so it reads
// one consistent snapshot); the rows are bounded by MaxResultBytes. Cursors
// end with their transaction block unless declared WITH HOLD.

// maxCursors bounds a session's open cursors.
const maxCursors = 1000

type cursor struct {
	cols []translate.Column
	rows [][]any
	pos  int // 0 before the first row, len(rows)+1 after the last
	hold bool
}

func (s *session) declareCursor(ctx context.Context, op *translate.CursorOp, params []any) (string, error) {
	if !op.Hold && !s.inBlock() {
		return "", pgerr.New(pgerr.NoActiveSQLTransaction, "DECLARE CURSOR can only be used in transaction blocks")
	}
	if _, exists := s.cursors[op.Name]; exists {
		return "", pgerr.New(pgerr.DuplicateCursor, "cursor %q already exists", op.Name)
	}
	if len(s.cursors) >= maxCursors {
		return "", pgerr.New(pgerr.ProgramLimitExceeded, "too many open cursors (limit %d)", maxCursors)
	}
	c := &cursor{cols: op.Query.Columns, hold: op.Hold}
	var bytes int64
	_, err := s.runQuery(ctx, op.Query, 0, params, func(row []any) error {
		for _, v := range row {
			bytes += valueSize(v)
		}
		if bytes > s.e.cfg.MaxResultBytes {
			return pgerr.New(pgerr.ProgramLimitExceeded, "cursor %q holds more than %d bytes", op.Name, s.e.cfg.MaxResultBytes)
		}
		c.rows = append(c.rows, append([]any(nil), row...))
		return nil
	})
	if err != nil {
		return "", clientError(err)
	}
	if s.cursors == nil {
		s.cursors = map[string]*cursor{}
	}
	s.cursors[op.Name] = c
	return "DECLARE CURSOR", nil
}

func (s *session) cursorNamed(name string) (*cursor, error) {
	c, ok := s.cursors[name]
	if !ok {
		return nil, pgerr.New(pgerr.InvalidCursorName, "cursor %q does not exist", name)
	}
	return c, nil
}

// describeFetch gives a FETCH plan its cursor's columns (MOVE returns none).
func (s *session) describeFetch(plan *translate.Plan) error {
	c, err := s.cursorNamed(plan.Cursor.Name)
	if err != nil {
		return err
	}
	if !plan.Cursor.Move {
		plan.Columns = c.cols
	}
	return nil
}

func (s *session) fetchCursor(op *translate.CursorOp, emit func([]any) error) (string, error) {
	c, err := s.cursorNamed(op.Name)
	if err != nil {
		return "", err
	}
	n := int64(0)
	out := func(i int) error {
		n++
		if op.Move {
			return nil
		}
		return emit(c.rows[i-1])
	}
	last := len(c.rows)
	switch op.Direction {
	case "forward":
		for ; n < op.Count && c.pos < last; c.pos++ {
			if err := out(c.pos + 1); err != nil {
				return "", err
			}
		}
		if n < op.Count {
			c.pos = last + 1
		}
	case "backward":
		for n < op.Count && c.pos > 1 {
			c.pos--
			if err := out(c.pos); err != nil {
				return "", err
			}
		}
		if n < op.Count {
			c.pos = 0
		}
	case "absolute", "relative":
		target := op.Count
		if op.Direction == "relative" {
			target += int64(c.pos)
		} else if target < 0 {
			target += int64(last) + 1
		}
		switch {
		case target < 1:
			c.pos = 0
		case target > int64(last):
			c.pos = last + 1
		default:
			c.pos = int(target)
			if err := out(c.pos); err != nil {
				return "", err
			}
		}
	}
	verb := "FETCH "
	if op.Move {
		verb = "MOVE "
	}
	return verb + strconv.FormatInt(n, 10), nil
}

func (s *session) closeCursor(op *translate.CursorOp) (string, error) {
	if op.Name == "" {
		s.cursors = nil
		return "CLOSE CURSOR ALL", nil
	}
	if _, err := s.cursorNamed(op.Name); err != nil {
		return "", err
	}
	delete(s.cursors, op.Name)
	return "CLOSE CURSOR", nil
}

// endBlockCursors closes the cursors that do not outlive the block.
func (s *session) endBlockCursors() {
	for name, c := range s.cursors {
		if !c.hold {
			delete(s.cursors, name)
		}
	}
}
