package pgwire

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/jackc/pgx/v5/pgproto3"
	"go.uber.org/zap"
)

// shutdownWriteGrace is how long Close lets a connection write its final
// FATAL before the socket is cut.
const shutdownWriteGrace = time.Second

// conn is one client connection: the driver that owns the socket and the
// protocol state of the session on it. Only its own goroutine touches its
// fields, except those documented as shared.
type conn struct {
	srv      *Server
	raw      net.Conn // the accepted socket: deadlines and Close (shared)
	nc       net.Conn // raw, or the TLS connection on top of it
	fr       *frameReader
	w        msgWriter
	log      *zap.Logger
	ctx      context.Context
	cancel   context.CancelFunc // shared: Close calls it
	rejected bool               // over MaxConnections: answer 53300 after startup
	tls      bool

	pid    uint32
	secret [4]byte

	sessMu sync.Mutex // guards sess against cancelStatement (shared)
	sess   Session

	stopping atomic.Bool // set by Server.Close (shared)

	// Extended-protocol state.
	stmts          map[string]*preparedStmt
	portals        map[string]*boundPortal
	ignoreTillSync bool

	sentParams map[string]string
	loc        *time.Location
	tzName     string

	// closing, when set, is sent as the last message and ends the
	// connection (a framing error seen in the middle of COPY, for example).
	closing *pgerr.Error
	// lost is set when the transport failed; nothing more can be sent.
	lost bool

	rw resultWriter
	in inbound // decoding flyweights, reused for every message
}

// inbound holds one value per frontend message type so decoding does not
// allocate the message itself.
type inbound struct {
	query    pgproto3.Query
	parse    pgproto3.Parse
	bind     bindMsg
	describe pgproto3.Describe
	execute  pgproto3.Execute
	close    pgproto3.Close
}

func newConn(s *Server, nc net.Conn, rejected bool) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		srv:        s,
		raw:        nc,
		nc:         nc,
		fr:         newFrameReader(nc, s.cfg.MaxMessageBytes),
		log:        s.log.With(zap.Stringer("remote", nc.RemoteAddr())),
		ctx:        ctx,
		cancel:     cancel,
		rejected:   rejected,
		stmts:      make(map[string]*preparedStmt),
		portals:    make(map[string]*boundPortal),
		sentParams: make(map[string]string),
		loc:        time.UTC,
		tzName:     "UTC",
	}
	c.w = msgWriter{nc: nc, writeTimeout: s.cfg.WriteTimeout, stopping: &c.stopping,
		onBytes: func(n int) { s.m.BytesWritten.Add(float64(n)) }}
	c.rw.c = c
	return c
}

// serve runs the connection to its end. Deferred calls run in reverse:
// a panic is logged and answered first, then everything is released.
func (c *conn) serve() {
	defer c.srv.connDone(c)
	defer c.release()
	defer c.recoverPanic()
	if !c.startup() {
		return
	}
	c.loop()
}

// recoverPanic keeps a bug triggered by one client from taking the server
// down (G9): it logs the stack and ends only this connection.
func (c *conn) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	c.log.Error("panic while serving a connection; closing it", zap.Any("panic", r), zap.Stack("stack"))
	if c.lost || c.w.err != nil {
		return
	}
	// Unflushed bytes may end in a half-built message: drop them.
	c.w.buf = c.w.buf[:0]
	_ = c.raw.SetWriteDeadline(time.Now().Add(shutdownWriteGrace))
	c.sendError(fatal(pgerr.InternalError, "internal error"))
	_ = c.w.flush()
}

// release frees the session and the socket; every step is guarded so a
// faulty engine cannot leak the others.
func (c *conn) release() {
	c.cancel()
	for name, p := range c.portals {
		c.safely("closing a portal", p.close)
		delete(c.portals, name)
	}
	c.sessMu.Lock()
	sess := c.sess
	c.sess = nil
	c.sessMu.Unlock()
	if sess != nil {
		c.safely("closing the session", sess.Close)
	}
	_ = c.nc.Close()
	_ = c.raw.Close()
}

func (c *conn) safely(what string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic while "+what, zap.Any("panic", r), zap.Stack("stack"))
		}
	}()
	f()
}

// shutdown is called by Server.Close from another goroutine. The read
// deadline wakes a connection blocked on its client; the loop then sends
// 57P01 and exits.
func (c *conn) shutdown() {
	c.stopping.Store(true)
	c.cancel()
	_ = c.raw.SetReadDeadline(time.Now())
	_ = c.raw.SetWriteDeadline(time.Now().Add(shutdownWriteGrace))
}

// clearDeadlines ends the startup time limit without losing a concurrent
// shutdown's deadline.
func (c *conn) clearDeadlines() {
	_ = c.raw.SetDeadline(time.Time{})
	if c.stopping.Load() {
		_ = c.raw.SetReadDeadline(time.Now())
		_ = c.raw.SetWriteDeadline(time.Now().Add(shutdownWriteGrace))
	}
}

// cancelStatement serves a matching CancelRequest (any goroutine).
func (c *conn) cancelStatement() {
	c.sessMu.Lock()
	sess := c.sess
	c.sessMu.Unlock()
	if sess != nil {
		sess.Cancel()
	}
}

// loop reads and dispatches messages until the client leaves, a fatal
// protocol error happens, or the server shuts down.
func (c *conn) loop() {
	for {
		typ, body, err := c.fr.next()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.srv.m.messageByType[typ].Inc()
		if !c.dispatch(typ, body) {
			return
		}
		if c.closing != nil {
			last := c.closing
			c.closing = nil
			c.sendError(last)
			return
		}
		if c.lost || c.w.err != nil {
			return
		}
	}
}

func (c *conn) readFailed(err error) {
	var fe *frameError
	switch {
	case c.stopping.Load():
		c.sendError(fatal(pgerr.AdminShutdown, "terminating connection due to administrator command"))
		_ = c.w.flush()
	case errors.As(err, &fe):
		c.log.Warn("protocol violation; closing connection", zap.String("error", fe.pe.Message))
		c.sendError(fe.pe)
		_ = c.w.flush()
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed):
		c.log.Debug("client disconnected")
	default:
		c.log.Debug("connection read failed", zap.Error(err))
	}
}

// dispatch handles one message; false ends the connection. While an
// extended-protocol error is pending, everything up to Sync is dropped
// (PostgreSQL's ignore_till_sync); Terminate always works.
func (c *conn) dispatch(typ byte, body []byte) bool {
	if c.ignoreTillSync && typ != 'S' && typ != 'X' {
		return true
	}
	switch typ {
	case 'Q':
		c.handleQuery(body)
	case 'P', 'B', 'D', 'E', 'C':
		if err := c.handleExtended(typ, body); err != nil {
			c.sendError(err)
			c.ignoreTillSync = true
		}
	case 'S':
		c.handleSync()
	case 'H':
		_ = c.w.flush()
	case 'X':
		return false
	case 'd', 'c', 'f':
		// COPY messages outside COPY are dropped, as PostgreSQL does after
		// it ended a COPY on error.
	case 'F':
		c.sendError(c.wireError(pgerr.Unsupported("the function call protocol message")))
		c.readyForQuery()
	default:
		c.closing = fatal(pgerr.ProtocolViolation, "invalid frontend message type %d", typ)
	}
	return true
}

// sendError queues an ErrorResponse. Errors that are not client errors are
// logged with their cause and sent as a bare XX000.
func (c *conn) sendError(err error) {
	if c.stopping.Load() && errors.Is(err, context.Canceled) {
		// The statement died because the server is closing: say that, once,
		// as the connection's last message.
		c.closing = fatal(pgerr.AdminShutdown, "terminating connection due to administrator command")
		return
	}
	pe, internal := clientError(err)
	if internal {
		c.log.Error("internal error", zap.Error(err))
	}
	c.srv.m.Errors.WithLabelValues(pe.Code.Class()).Inc()
	er := errorFields(pe)
	c.w.send(&er)
	// Like PostgreSQL's send_message_to_frontend: an error goes out at once,
	// so a client learns of it even if the connection dies before Sync.
	_ = c.w.flush()
}

func (c *conn) sendNotice(n *pgerr.Error) {
	sev := n.Severity
	if sev == "" {
		sev = pgerr.SeverityNotice
	}
	fields := errorFields(n)
	fields.Severity, fields.SeverityUnlocalized = sev, sev
	nr := pgproto3.NoticeResponse(fields)
	c.w.send(&nr)
}

// readyForQuery ends a cycle: reports changed settings, then the
// transaction status, and flushes.
func (c *conn) readyForQuery() {
	c.sendChangedParams()
	c.w.readyForQuery(c.sess.TxStatus())
	_ = c.w.flush()
}

// sendChangedParams sends ParameterStatus for each reportable setting whose
// value differs from what the client was last told.
func (c *conn) sendChangedParams() {
	for _, p := range c.sess.ParameterStatus() {
		if old, ok := c.sentParams[p.Name]; ok && old == p.Value {
			continue
		}
		c.sentParams[p.Name] = p.Value
		c.w.send(&pgproto3.ParameterStatus{Name: p.Name, Value: p.Value})
		if p.Name == "TimeZone" {
			c.setTimeZone(p.Value)
		}
	}
}

// refreshTimeZone picks up a TimeZone change made by the statement that
// just ran, so the next statement's timestamptz output uses it even before
// the client is told at ReadyForQuery.
func (c *conn) refreshTimeZone() {
	if sl, ok := c.sess.(SessionLocation); ok {
		if loc := sl.Location(); loc != nil {
			c.loc = loc
		}
		return
	}
	for _, p := range c.sess.ParameterStatus() {
		if p.Name == "TimeZone" {
			c.setTimeZone(p.Value)
			return
		}
	}
}

func (c *conn) setTimeZone(name string) {
	if name == c.tzName {
		return
	}
	c.tzName = name
	loc, err := pgval.LoadLocation(name)
	if err != nil {
		c.log.Warn("session TimeZone is not a known zone; formatting in UTC", zap.String("zone", name))
		loc = time.UTC
	}
	c.loc = loc
}
