package pgwire

import (
	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/jackc/pgx/v5/pgproto3"
)

// handleQuery runs a simple Query message:
//  1. The unnamed statement and unnamed portal are dropped (PostgreSQL does).
//  2. Session.Parse splits the text; an empty text answers EmptyQueryResponse.
//  3. Each statement is bound without parameters; RowDescription (text
//     formats) precedes its DataRows; CommandComplete follows.
//  4. The first error stops the rest of the message.
//  5. Session.Sync ends the implicit transaction; changed settings are
//     reported; ReadyForQuery carries Session.TxStatus.
func (c *conn) handleQuery(body []byte) {
	q := &c.in.query
	if err := q.Decode(body); err != nil {
		c.sendError(c.wireError(pgerr.New(pgerr.ProtocolViolation, "invalid string in message")))
		c.readyForQuery()
		return
	}
	c.dropUnnamed()
	if err := pgval.CheckUTF8String(q.String); err != nil {
		c.sendError(c.wireError(err))
	} else {
		c.runSimple(q.String)
	}
	if c.lost || c.closing != nil {
		return
	}
	if err := c.sess.Sync(c.ctx); err != nil {
		c.sendError(err)
	}
	c.readyForQuery()
}

func (c *conn) runSimple(sql string) {
	stmts, err := c.sess.Parse(c.ctx, sql, nil)
	if err != nil {
		c.sendError(err)
		return
	}
	if len(stmts) == 0 {
		c.w.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, st := range stmts {
		if !c.runSimpleStatement(st) {
			return
		}
	}
}

func (c *conn) runSimpleStatement(st Statement) bool {
	portal, err := st.Bind(c.ctx, nil)
	if err != nil {
		c.sendError(err)
		return false
	}
	defer portal.Close()
	cols := portal.Columns()
	if cols != nil {
		c.w.rowDescription(cols, nil)
	}
	rw := c.rw.reset(cols, nil)
	tag, _, err := portal.Execute(c.ctx, 0, rw)
	if err == nil {
		err = rw.finish()
	}
	c.refreshTimeZone()
	if err != nil {
		if !c.lost && c.closing == nil {
			c.sendError(err)
		}
		return false
	}
	c.w.commandComplete(tag)
	return c.w.err == nil
}
