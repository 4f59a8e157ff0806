package pgwire

import (
	"strconv"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/jackc/pgx/v5/pgproto3"
)

// preparedStmt is a Parse result. st is nil for an empty query string.
type preparedStmt struct {
	name      string
	st        Statement
	paramOIDs []uint32
	cols      []Column
}

// boundPortal is a Bind result. p is nil for an empty statement.
type boundPortal struct {
	name    string
	p       Portal
	cols    []Column
	formats []int16 // per column, nil = all text
}

func (bp *boundPortal) close() {
	if bp.p != nil {
		bp.p.Close()
	}
}

func stmtLabel(name string) string {
	if name == "" {
		return "unnamed prepared statement"
	}
	return "prepared statement \"" + name + "\""
}

// handleExtended runs Parse, Bind, Describe, Execute and Close. An error
// return is reported by the caller, which then skips messages until Sync.
func (c *conn) handleExtended(typ byte, body []byte) error {
	switch typ {
	case 'P':
		m := &c.in.parse
		if err := m.Decode(body); err != nil {
			return c.wireError(invalidMessage("Parse"))
		}
		return c.handleParse(m)
	case 'B':
		m := &c.in.bind
		if !m.decode(body) {
			return c.wireError(invalidMessage("Bind"))
		}
		return c.handleBind(m)
	case 'D':
		if len(body) > 0 && body[0] != 'S' && body[0] != 'P' {
			return c.wireError(pgerr.New(pgerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", body[0]))
		}
		m := &c.in.describe
		if err := m.Decode(body); err != nil {
			return c.wireError(invalidMessage("Describe"))
		}
		return c.handleDescribe(m)
	case 'E':
		m := &c.in.execute
		if err := m.Decode(body); err != nil {
			return c.wireError(invalidMessage("Execute"))
		}
		return c.handleExecute(m)
	}
	if len(body) > 0 && body[0] != 'S' && body[0] != 'P' {
		return c.wireError(pgerr.New(pgerr.ProtocolViolation, "invalid CLOSE message subtype %d", body[0]))
	}
	m := &c.in.close
	if err := m.Decode(body); err != nil {
		return c.wireError(invalidMessage("Close"))
	}
	return c.handleClose(m)
}

func invalidMessage(kind string) *pgerr.Error {
	return pgerr.New(pgerr.ProtocolViolation, "invalid %s message format", kind)
}

// handleParse creates a prepared statement. A named one may not be
// redefined (42P05); the unnamed one is replaced; text holding more than one
// statement is refused (42601).
func (c *conn) handleParse(m *pgproto3.Parse) error {
	if m.Name != "" {
		if _, exists := c.stmts[m.Name]; exists {
			return c.wireError(pgerr.New(pgerr.DuplicatePreparedStatement, "prepared statement \"%s\" already exists", m.Name))
		}
		if len(c.stmts) >= c.srv.cfg.MaxPreparedStatements {
			return c.wireError(pgerr.New(pgerr.ProgramLimitExceeded, "too many prepared statements").
				WithDetail("A connection may keep at most %d prepared statements.", c.srv.cfg.MaxPreparedStatements).
				WithHint("Deallocate prepared statements that are no longer needed."))
		}
	}
	if err := pgval.CheckUTF8String(m.Query); err != nil {
		return c.wireError(err)
	}
	stmts, err := c.sess.Parse(c.ctx, m.Query, m.ParameterOIDs)
	if err != nil {
		return err
	}
	ps := &preparedStmt{name: m.Name, paramOIDs: m.ParameterOIDs}
	switch len(stmts) {
	case 0:
	case 1:
		ps.st = stmts[0]
		ps.paramOIDs = ps.st.ParamOIDs()
		ps.cols = ps.st.Columns()
	default:
		return c.wireError(pgerr.New(pgerr.SyntaxError, "cannot insert multiple commands into a prepared statement"))
	}
	c.stmts[m.Name] = ps
	if obs, ok := c.sess.(StatementObserver); ok && m.Name != "" && ps.st != nil {
		obs.StatementPrepared(m.Name, ps.st)
	}
	c.w.send(&pgproto3.ParseComplete{})
	return nil
}

// handleBind decodes parameters by the statement's types and creates a
// portal with the requested result formats.
func (c *conn) handleBind(m *bindMsg) error {
	ps := c.stmts[string(m.stmt)]
	if ps == nil {
		return c.wireError(pgerr.New(pgerr.InvalidSQLStatementName, "%s does not exist", stmtLabel(string(m.stmt))))
	}
	if len(m.portal) > 0 {
		if _, exists := c.portals[string(m.portal)]; exists {
			// PostgreSQL uses 42P03 duplicate_cursor, which pgerr lacks.
			return c.wireError(pgerr.New(pgerr.InvalidCursorState, "portal \"%s\" already exists", m.portal))
		}
		if len(c.portals) >= c.srv.cfg.MaxPortals {
			return c.wireError(pgerr.New(pgerr.ProgramLimitExceeded, "too many open portals").
				WithDetail("A connection may keep at most %d portals open.", c.srv.cfg.MaxPortals))
		}
	}
	params, err := c.decodeParams(ps, m)
	if err != nil {
		return c.wireError(err)
	}
	name := string(m.portal)
	bp := &boundPortal{name: name}
	if ps.st != nil {
		if bp.p, err = ps.st.Bind(c.ctx, params); err != nil {
			return err
		}
		bp.cols = bp.p.Columns()
		if bp.formats, err = resultFormats(m.resultFormats, bp.cols); err != nil {
			bp.close()
			return c.wireError(err)
		}
	}
	if old := c.portals[name]; old != nil { // only the unnamed portal gets here
		old.close()
	}
	c.portals[name] = bp
	c.w.send(&pgproto3.BindComplete{})
	return nil
}

// formatFor applies the protocol's format-code rule: none = all text, one
// = all, otherwise one per item.
func formatFor(codes []int16, i int) int16 {
	switch len(codes) {
	case 0:
		return formatText
	case 1:
		return codes[0]
	}
	return codes[i]
}

func (c *conn) decodeParams(ps *preparedStmt, m *bindMsg) ([]any, error) {
	n := len(m.params)
	if nf := len(m.paramFormats); nf > 1 && nf != n {
		return nil, pgerr.New(pgerr.ProtocolViolation, "bind message has %d parameter formats but %d parameters", nf, n)
	}
	if n != len(ps.paramOIDs) {
		return nil, pgerr.New(pgerr.ProtocolViolation, "bind message supplies %d parameters, but %s requires %d",
			n, stmtLabel(ps.name), len(ps.paramOIDs))
	}
	if n == 0 {
		return nil, nil
	}
	params := make([]any, n) // the engine may keep it: a fresh slice per Bind
	for i, raw := range m.params {
		if raw == nil {
			continue
		}
		v, err := decodeParam(ps.paramOIDs[i], formatFor(m.paramFormats, i), raw, i+1, c.loc)
		if err != nil {
			return nil, err
		}
		params[i] = v
	}
	return params, nil
}

// decodeParam turns one parameter into the value model. Unknown or
// unspecified types arrive as text strings for the engine to coerce.
func decodeParam(oid uint32, format int16, raw []byte, pos int, loc *time.Location) (any, error) {
	switch format {
	case formatText:
		if err := pgval.CheckUTF8(raw); err != nil {
			return nil, err
		}
		if oid == pgval.Unspecified || oid == pgval.UnknownOID {
			return string(raw), nil
		}
		return pgval.Parse(oid, string(raw), loc)
	case formatBinary:
		if oid == pgval.Unspecified || oid == pgval.UnknownOID {
			if err := pgval.CheckUTF8(raw); err != nil {
				return nil, err
			}
			return string(raw), nil
		}
		v, err := pgval.DecodeBinary(oid, raw)
		if err != nil && pgerr.CodeOf(err) == pgerr.InvalidBinaryRepresentation {
			return nil, pgerr.Wrap(err, pgerr.InvalidBinaryRepresentation,
				"incorrect binary data format in bind parameter %d", pos)
		}
		return v, err
	}
	return nil, pgerr.New(pgerr.InvalidParameterValue, "unsupported format code: %d", format)
}

// resultFormats expands the Bind result-format codes to one per column and
// checks that binary columns have a binary codec.
func resultFormats(codes []int16, cols []Column) ([]int16, error) {
	for _, f := range codes {
		if f != formatText && f != formatBinary {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "unsupported format code: %d", f)
		}
	}
	if len(codes) > 1 && len(codes) != len(cols) {
		return nil, pgerr.New(pgerr.ProtocolViolation, "bind message has %d result formats but query has %d columns",
			len(codes), len(cols))
	}
	if len(codes) == 0 || len(codes) == 1 && codes[0] == formatText {
		return nil, nil
	}
	out := make([]int16, len(cols))
	for i, col := range cols {
		out[i] = formatFor(codes, i)
		if out[i] == formatBinary && !pgval.HasBinary(col.TypeOID) {
			ti, _ := pgval.Lookup(col.TypeOID)
			name := "oid " + strconv.FormatUint(uint64(col.TypeOID), 10)
			if ti != nil {
				name = ti.SQLName
			}
			return nil, pgerr.New(pgerr.FeatureNotSupported, "binary output for type %s is not supported", name).
				WithHint("Request text format for column \"%s\".", col.Name)
		}
	}
	return out, nil
}

func (c *conn) handleDescribe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		ps := c.stmts[m.Name]
		if ps == nil {
			return c.wireError(pgerr.New(pgerr.InvalidSQLStatementName, "%s does not exist", stmtLabel(m.Name)))
		}
		c.w.send(&pgproto3.ParameterDescription{ParameterOIDs: ps.paramOIDs})
		if ps.cols != nil {
			c.w.rowDescription(ps.cols, nil)
		} else {
			c.w.send(&pgproto3.NoData{})
		}
	case 'P':
		bp := c.portals[m.Name]
		if bp == nil {
			return c.wireError(pgerr.New(pgerr.InvalidCursorName, "portal \"%s\" does not exist", m.Name))
		}
		if bp.cols != nil {
			c.w.rowDescription(bp.cols, bp.formats)
		} else {
			c.w.send(&pgproto3.NoData{})
		}
	default:
		return c.wireError(pgerr.New(pgerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType))
	}
	return nil
}

// handleExecute runs a portal up to MaxRows rows (0, or a value that is
// negative as int32, means all), answering PortalSuspended when rows remain.
func (c *conn) handleExecute(m *pgproto3.Execute) error {
	bp := c.portals[m.Portal]
	if bp == nil {
		return c.wireError(pgerr.New(pgerr.InvalidCursorName, "portal \"%s\" does not exist", m.Portal))
	}
	if bp.p == nil {
		c.w.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	maxRows := int(int32(m.MaxRows)) //nolint:gosec // the protocol field is a signed int32
	if maxRows < 0 {
		maxRows = 0
	}
	rw := c.rw.reset(bp.cols, bp.formats)
	tag, suspended, err := bp.p.Execute(c.ctx, maxRows, rw)
	if err == nil {
		err = rw.finish()
	}
	c.refreshTimeZone()
	if err != nil {
		if c.lost || c.closing != nil {
			return nil // the connection ends; nothing more to say
		}
		return err
	}
	if suspended {
		c.w.send(&pgproto3.PortalSuspended{})
	} else {
		c.w.commandComplete(tag)
	}
	return nil
}

// handleClose drops a statement or portal; closing one that does not
// exist is not an error.
func (c *conn) handleClose(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		if _, ok := c.stmts[m.Name]; ok && m.Name != "" {
			if obs, ok := c.sess.(StatementObserver); ok {
				obs.StatementClosed(m.Name)
			}
		}
		delete(c.stmts, m.Name)
	case 'P':
		if bp := c.portals[m.Name]; bp != nil {
			bp.close()
			delete(c.portals, m.Name)
		}
	default:
		return c.wireError(pgerr.New(pgerr.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType))
	}
	c.w.send(&pgproto3.CloseComplete{})
	return nil
}

// handleSync ends an extended-protocol cycle: it stops skipping after an
// error, lets the session end its implicit transaction, drops portals once
// no transaction is open (they do not outlive their transaction in
// PostgreSQL), and answers ReadyForQuery.
func (c *conn) handleSync() {
	c.ignoreTillSync = false
	if err := c.sess.Sync(c.ctx); err != nil {
		c.sendError(err)
	}
	if c.sess.TxStatus() == 'I' {
		for name, bp := range c.portals {
			bp.close()
			delete(c.portals, name)
		}
	}
	c.readyForQuery()
}

// dropUnnamed forgets the unnamed statement and portal, as a simple Query
// does in PostgreSQL.
func (c *conn) dropUnnamed() {
	delete(c.stmts, "")
	if bp := c.portals[""]; bp != nil {
		bp.close()
		delete(c.portals, "")
	}
}

// wireError tells the session about an error pgwire raised itself (see
// ProtocolErrorObserver) and returns it for reporting.
func (c *conn) wireError(err error) error {
	if o, ok := c.sess.(ProtocolErrorObserver); ok {
		pe, _ := clientError(err)
		o.ProtocolError(pe)
	}
	return err
}
