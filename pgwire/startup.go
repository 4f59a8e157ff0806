package pgwire

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"strings"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/jackc/pgx/v5/pgproto3"
	"go.uber.org/zap"
)

// Startup-phase request codes (the "protocol version" field of the packet).
const (
	codeCancelRequest = 80877102
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
	// maxNegotiationPackets bounds SSLRequest/GSSENCRequest retries before
	// the startup message.
	maxNegotiationPackets = 4
)

// startupDecision is the pure outcome of inspecting a StartupMessage.
type startupDecision struct {
	params      map[string]string
	negotiate   bool     // send NegotiateProtocolVersion
	unknownOpts []string // "_pq_." options we do not support
	fail        *pgerr.Error
}

// decideStartup validates a StartupMessage body (after the length) and
// decides on protocol negotiation: 3.x with x > 0 is served as 3.0, and
// "_pq_." options are reported as unrecognized, both through
// NegotiateProtocolVersion (PostgreSQL 16 behaviour).
func decideStartup(pkt []byte) startupDecision {
	version := binary.BigEndian.Uint32(pkt)
	major, minor := version>>16, version&0xFFFF
	if major != 3 {
		return startupDecision{fail: fatal(pgerr.FeatureNotSupported,
			"unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", major, minor)}
	}
	params := make(map[string]string)
	var unknown []string
	rest := pkt[4:]
	for {
		if len(rest) == 1 && rest[0] == 0 {
			break
		}
		k := bytes.IndexByte(rest, 0)
		if k <= 0 {
			return startupDecision{fail: fatal(pgerr.ProtocolViolation,
				"invalid startup packet layout: expected terminator as last byte")}
		}
		name := string(rest[:k])
		rest = rest[k+1:]
		v := bytes.IndexByte(rest, 0)
		if v < 0 {
			return startupDecision{fail: fatal(pgerr.ProtocolViolation,
				"invalid startup packet layout: expected terminator as last byte")}
		}
		value := string(rest[:v])
		rest = rest[v+1:]
		if strings.HasPrefix(name, "_pq_.") {
			unknown = append(unknown, name)
			continue
		}
		params[name] = value
	}
	d := startupDecision{params: params, unknownOpts: unknown, negotiate: minor > 0 || len(unknown) > 0}
	switch {
	case params["user"] == "":
		d.fail = fatal(pgerr.InvalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet")
	case isReplication(params["replication"]):
		d.fail = fatal(pgerr.FeatureNotSupported, "replication connections are not supported")
	}
	return d
}

func isReplication(v string) bool {
	switch strings.ToLower(v) {
	case "", "false", "off", "no", "0":
		return false
	}
	return true
}

// startup runs SSL negotiation, the startup packet, authentication and
// session creation, all within StartupTimeout. It returns false when the
// connection must end.
func (c *conn) startup() bool {
	_ = c.raw.SetDeadline(time.Now().Add(c.srv.cfg.StartupTimeout))
	d, ok := c.readStartup()
	if !ok {
		return false
	}
	reason := rejectStartup
	if d.fail == nil {
		switch {
		case c.rejected:
			reason, d.fail = rejectTooMany, fatal(pgerr.TooManyConnections, "sorry, too many clients already")
		case c.stopping.Load():
			reason, d.fail = rejectShutdown, fatal(pgerr.CannotConnectNow, "the database system is shutting down")
		}
	}
	if d.fail != nil {
		c.srv.m.Rejected.WithLabelValues(reason).Inc()
		c.sendError(d.fail)
		_ = c.w.flush()
		return false
	}
	if d.negotiate {
		c.w.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: d.unknownOpts})
	}
	user := d.params["user"]
	pe, err := c.authenticate(user)
	if err != nil {
		c.log.Debug("client left during authentication", zap.Error(err))
		return false
	}
	if pe != nil {
		c.srv.m.Rejected.WithLabelValues(rejectAuth).Inc()
		c.log.Info("authentication failed", zap.String("user", user), zap.String("sqlstate", string(pe.Code)))
		c.sendError(pe)
		_ = c.w.flush()
		return false
	}
	return c.openSession(d.params)
}

// readStartup handles SSLRequest and GSSENCRequest until the startup
// message arrives; a CancelRequest is served and ends the connection.
func (c *conn) readStartup() (startupDecision, bool) {
	for i := 0; i < maxNegotiationPackets; i++ {
		pkt, err := c.fr.startupPacket()
		if err != nil {
			c.log.Debug("bad or missing startup packet", zap.Error(err))
			return startupDecision{}, false
		}
		switch binary.BigEndian.Uint32(pkt) {
		case codeCancelRequest:
			// PostgreSQL 16 (protocol 3.0) keys are exactly 4 bytes.
			if len(pkt) == 12 {
				c.srv.cancel(binary.BigEndian.Uint32(pkt[4:]), pkt[8:])
			}
			return startupDecision{}, false
		case codeSSLRequest:
			if len(pkt) != 4 || !c.negotiateTLS() {
				return startupDecision{}, false
			}
		case codeGSSENCRequest:
			if len(pkt) != 4 || !c.refuseEncryption() {
				return startupDecision{}, false
			}
		default:
			return decideStartup(pkt), true
		}
	}
	return startupDecision{}, false
}

// refuseEncryption answers 'N'. Bytes the client sent right behind its
// request were not protected by the encryption it asked for and may have
// been injected (CVE-2021-23214): like PostgreSQL, answer, then refuse them.
func (c *conn) refuseEncryption() bool {
	if _, err := c.nc.Write([]byte{'N'}); err != nil {
		return false
	}
	return c.noBufferedPlaintext()
}

func (c *conn) noBufferedPlaintext() bool {
	if c.fr.br.Buffered() > 0 {
		return c.failPlain(fatal(pgerr.ProtocolViolation, "received unencrypted data after SSL request").
			WithDetail("This could be either a client-software bug or evidence of an attempted man-in-the-middle attack."))
	}
	return true
}

func (c *conn) negotiateTLS() bool {
	cfg := c.srv.cfg.TLSConfig
	if cfg == nil || c.tls {
		return c.refuseEncryption()
	}
	if _, err := c.nc.Write([]byte{'S'}); err != nil {
		return false
	}
	if !c.noBufferedPlaintext() {
		return false
	}
	tc := tls.Server(c.raw, cfg)
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Debug("TLS handshake failed", zap.Error(err))
		return false
	}
	c.nc, c.w.nc, c.tls = tc, tc, true
	c.fr.reset(tc)
	return true
}

func (c *conn) failPlain(pe *pgerr.Error) bool {
	c.sendError(pe)
	_ = c.w.flush()
	return false
}

// defaultParams are reported when the session does not report them itself:
// drivers read these at startup.
var defaultParams = []Param{
	{"server_encoding", "UTF8"},
	{"client_encoding", "UTF8"},
	{"DateStyle", "ISO, MDY"},
	{"integer_datetimes", "on"},
	{"standard_conforming_strings", "on"},
	{"IntervalStyle", "postgres"},
	{"TimeZone", "UTC"},
}

// openSession creates the engine session and sends AuthenticationOk,
// ParameterStatus for every reportable setting, BackendKeyData and the
// first ReadyForQuery.
func (c *conn) openSession(params map[string]string) bool {
	c.w.send(&pgproto3.AuthenticationOk{})
	if err := c.srv.register(c); err != nil {
		return c.failPlain(fatal(pgerr.InternalError, "internal error"))
	}
	info := SessionInfo{
		ProcessID:  c.pid,
		User:       params["user"],
		Database:   params["database"],
		Params:     params,
		RemoteAddr: c.raw.RemoteAddr(),
		TLS:        c.tls,
	}
	if info.Database == "" {
		info.Database = info.User
	}
	sess, err := c.srv.cfg.Engine.NewSession(c.ctx, info)
	if err != nil {
		pe, internal := clientError(err)
		if internal {
			c.log.Error("engine refused a session", zap.Error(err))
		}
		fe := *pe
		fe.Severity = pgerr.SeverityFatal
		return c.failPlain(&fe)
	}
	c.sessMu.Lock()
	c.sess = sess
	c.sessMu.Unlock()

	reported := make(map[string]bool)
	for _, p := range sess.ParameterStatus() {
		reported[p.Name] = true
	}
	if !reported["server_version"] {
		c.w.send(&pgproto3.ParameterStatus{Name: "server_version", Value: c.srv.cfg.ServerVersion})
	}
	for _, p := range defaultParams {
		if !reported[p.Name] {
			c.w.send(&pgproto3.ParameterStatus{Name: p.Name, Value: p.Value})
		}
	}
	c.sendChangedParams() // every session parameter, first time round
	c.w.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.readyForQuery()
	if c.w.err != nil {
		return false
	}
	c.clearDeadlines()
	c.log.Debug("session started", zap.Uint32("pid", c.pid), zap.String("user", info.User),
		zap.String("database", info.Database), zap.Bool("tls", c.tls))
	return true
}
