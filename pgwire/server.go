package pgwire

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Server accepts PostgreSQL client connections and drives an Engine.
type Server struct {
	cfg   Config
	log   *zap.Logger
	auth  *authenticator
	m     *Metrics
	ready chan struct{} // closed once Serve has a listener

	mu         sync.Mutex
	listener   net.Listener
	closed     bool
	conns      map[*conn]struct{} // every goroutine-owning connection
	byPID      map[uint32]*conn   // sessions reachable by CancelRequest
	active     int                // connections counted against MaxConnections
	rejecting  int                // connections being turned away
	nextPID    uint32
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closeError error
}

// NewServer validates cfg and prepares a server; it does not listen yet.
func NewServer(cfg Config) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	auth, err := newAuthenticator(c.Auth)
	if err != nil {
		return nil, err
	}
	var seed [4]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, err
	}
	return &Server{
		cfg:     c,
		log:     c.Logger,
		auth:    auth,
		m:       c.Metrics,
		ready:   make(chan struct{}),
		conns:   make(map[*conn]struct{}),
		byPID:   make(map[uint32]*conn),
		nextPID: binary.BigEndian.Uint32(seed[:])>>1 | 1, // looks like a pid, never 0
	}, nil
}

// ListenAndServe listens on cfg.Addr and serves until Close.
func (s *Server) ListenAndServe() error {
	addr := s.cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:5432"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve accepts connections on l until Close; it always returns a non-nil
// error, ErrServerClosed after Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if l != nil {
			_ = l.Close()
		}
		return ErrServerClosed
	}
	if s.listener != nil {
		s.mu.Unlock()
		return errors.New("pgwire: Serve called twice")
	}
	s.listener = l
	close(s.ready)
	s.mu.Unlock()
	s.log.Info("pgwire listening", zap.Stringer("addr", l.Addr()))

	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", zap.Error(err), zap.Duration("backoff", backoff))
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.startConn(nc)
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// startConn admits nc. Past MaxConnections a connection is still read far
// enough to answer a CancelRequest or to send 53300 (as PostgreSQL does);
// past twice that it is closed outright so a flood cannot pin goroutines.
func (s *Server) startConn(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	overLimit := s.active >= s.cfg.MaxConnections
	if overLimit && s.rejecting >= s.cfg.MaxConnections {
		s.mu.Unlock()
		s.m.Rejected.WithLabelValues(rejectTooMany).Inc()
		_ = nc.Close()
		return
	}
	c := newConn(s, nc, overLimit)
	if overLimit {
		s.rejecting++
	} else {
		s.active++
		s.m.ConnectionsActive.Inc()
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.m.ConnectionsTotal.Inc()
	go c.serve()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// connDone is called once by each connection goroutine on exit.
func (s *Server) connDone(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if s.byPID[c.pid] == c {
		delete(s.byPID, c.pid)
	}
	if c.rejected {
		s.rejecting--
	} else {
		s.active--
		s.m.ConnectionsActive.Dec()
	}
	s.mu.Unlock()
	s.wg.Done()
}

// register assigns the connection its BackendKeyData and makes it
// reachable by CancelRequest.
func (s *Server) register(c *conn) error {
	var secret [4]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		s.nextPID++
		if s.nextPID&0x7FFFFFFF == 0 {
			s.nextPID = 1
		}
		pid := s.nextPID & 0x7FFFFFFF // positive like an OS pid
		if _, taken := s.byPID[pid]; !taken {
			c.pid, c.secret = pid, secret
			s.byPID[pid] = c
			return nil
		}
	}
}

// cancel handles a CancelRequest: when pid and secret match a live session
// its running statement is interrupted. Nothing is ever answered.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || len(secret) != len(c.secret) || subtle.ConstantTimeCompare(secret, c.secret[:]) != 1 {
		s.log.Debug("cancel request matched no session", zap.Uint32("pid", pid))
		return
	}
	c.cancelStatement()
}

// Addr is the listener's address, nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// Ready is closed once Serve has started listening.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Close stops accepting, tells every connection FATAL 57P01
// "terminating connection due to administrator command", cancels their
// contexts and waits for their goroutines to end. A connection stuck on a
// client that does not read is cut after a short write deadline; a session
// that ignores its context cancellation delays Close until it returns.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		if s.listener != nil {
			s.closeError = s.listener.Close()
		}
		conns := make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.shutdown()
		}
		s.wg.Wait()
		s.log.Info("pgwire closed")
	})
	return s.closeError
}
