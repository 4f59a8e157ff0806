package pgwire

import (
	"crypto/tls"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Authentication methods, spelled as in pg_hba.conf.
const (
	AuthTrust       = "trust"
	AuthPassword    = "password" // cleartext
	AuthMD5         = "md5"
	AuthScramSHA256 = "scram-sha-256"
)

// Defaults for zero Config fields.
const (
	DefaultMaxConnections        = 100
	DefaultMaxMessageBytes       = 64 << 20
	DefaultStartupTimeout        = 60 * time.Second // PostgreSQL's authentication_timeout
	DefaultMaxPreparedStatements = 10_000
	DefaultMaxPortals            = 10_000
	DefaultServerVersion         = "16.4 (chr2sql)"
)

// AuthConfig selects how clients prove who they are.
type AuthConfig struct {
	// Method is AuthTrust (default), AuthPassword, AuthMD5 or AuthScramSHA256.
	Method string
	// Users maps a user name to its secret: a plain password, an MD5 hash
	// as PostgreSQL stores it ("md5" + md5hex(password+user)) or a SCRAM
	// verifier ("SCRAM-SHA-256$iter:salt$StoredKey:ServerKey"). Like
	// PostgreSQL, md5 falls back to SCRAM when only a verifier is known.
	// Secrets are never logged.
	Users map[string]string
}

// Config configures a Server. Zero values take the defaults above.
type Config struct {
	Addr   string // listen address for ListenAndServe
	Engine Engine
	Logger *zap.Logger

	MaxConnections  int // beyond it: FATAL 53300 "sorry, too many clients already"
	MaxMessageBytes int // beyond it: FATAL 54000 and the connection closes
	// MaxPreparedStatements and MaxPortals bound what one connection may
	// keep open (54000 beyond them).
	MaxPreparedStatements int
	MaxPortals            int

	Auth      AuthConfig
	TLSConfig *tls.Config // nil: SSLRequest is answered 'N'

	// StartupTimeout bounds SSL negotiation, startup packet and
	// authentication together.
	StartupTimeout time.Duration
	// WriteTimeout, when set, bounds each socket write: a client that stops
	// reading for that long is disconnected. Zero means no limit (the
	// writer still blocks instead of buffering, so memory stays bounded).
	WriteTimeout time.Duration

	// ServerVersion is reported as server_version when the engine's session
	// does not report one itself.
	ServerVersion string

	// Metrics receives counters; nil uses unregistered metrics.
	Metrics *Metrics
}

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.Engine == nil {
		return out, fmt.Errorf("%w: Engine is required", ErrBadConfig)
	}
	if out.Logger == nil {
		out.Logger = zap.NewNop()
	}
	setDefault(&out.MaxConnections, DefaultMaxConnections)
	setDefault(&out.MaxMessageBytes, DefaultMaxMessageBytes)
	setDefault(&out.MaxPreparedStatements, DefaultMaxPreparedStatements)
	setDefault(&out.MaxPortals, DefaultMaxPortals)
	if out.StartupTimeout <= 0 {
		out.StartupTimeout = DefaultStartupTimeout
	}
	if out.ServerVersion == "" {
		out.ServerVersion = DefaultServerVersion
	}
	if out.Metrics == nil {
		out.Metrics = NewMetrics(nil)
	}
	switch out.Auth.Method {
	case "":
		out.Auth.Method = AuthTrust
	case AuthTrust, AuthPassword, AuthMD5, AuthScramSHA256:
	default:
		return out, fmt.Errorf("%w: unknown auth method %q", ErrBadConfig, out.Auth.Method)
	}
	if out.MaxConnections < 0 || out.MaxMessageBytes < 0 || out.WriteTimeout < 0 {
		return out, fmt.Errorf("%w: negative limit", ErrBadConfig)
	}
	return out, nil
}

func setDefault(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}
