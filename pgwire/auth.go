package pgwire

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // PostgreSQL's md5 method is defined with MD5
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/jackc/pgx/v5/pgproto3"
)

// userSecret is what the server knows about one user's password. Any of
// the forms may be missing, depending on what was configured.
type userSecret struct {
	plain    string
	hasPlain bool
	md5      string            // "md5" + md5hex(password + user)
	scram    *scramCredentials // configured verifier
	once     sync.Once         // derives `derived` from plain on first use
	derived  *scramCredentials
	scramErr error
}

// authenticator holds the configured secrets. It is shared by all
// connections and never logs or returns a secret.
type authenticator struct {
	method  string
	users   map[string]*userSecret
	mockKey []byte // keys the made-up salts of unknown users
}

func newAuthenticator(cfg AuthConfig) (*authenticator, error) {
	a := &authenticator{method: cfg.Method, users: make(map[string]*userSecret, len(cfg.Users))}
	a.mockKey = make([]byte, 32)
	if _, err := rand.Read(a.mockKey); err != nil {
		return nil, err
	}
	for user, secret := range cfg.Users {
		us := &userSecret{}
		switch {
		case strings.HasPrefix(secret, scramVerifierPrefix):
			creds, err := parseScramVerifier(secret)
			if err != nil {
				// The error names the user, never the secret.
				return nil, fmt.Errorf("%w: user %q has a malformed SCRAM verifier", ErrBadConfig, user)
			}
			us.scram = creds
		case isMD5Hash(secret):
			us.md5 = secret
		default:
			us.plain, us.hasPlain = secret, true
			us.md5 = "md5" + md5Hex(secret+user)
		}
		a.users[user] = us
	}
	return a, nil
}

func isMD5Hash(s string) bool {
	if len(s) != 35 || !strings.HasPrefix(s, "md5") {
		return false
	}
	_, err := hex.DecodeString(s[3:])
	return err == nil
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // protocol-mandated
	return hex.EncodeToString(sum[:])
}

// scramFor returns the user's SCRAM credentials, deriving them from a plain
// password once (with a random salt per server run). It returns nil when
// the user has none.
func (a *authenticator) scramFor(user string) *scramCredentials {
	us := a.users[user]
	switch {
	case us == nil:
		return nil
	case us.scram != nil: // a configured verifier, immutable after construction
		return us.scram
	case !us.hasPlain:
		return nil
	}
	us.once.Do(func() {
		salt := make([]byte, scramSaltBytes)
		if _, err := rand.Read(salt); err != nil {
			us.scramErr = err
			return
		}
		us.derived, us.scramErr = deriveScram(us.plain, salt, scramIterations)
	})
	if us.scramErr != nil {
		return nil
	}
	return us.derived
}

// mockScram makes stable fake credentials for a user that does not exist,
// so the exchange looks the same as for a real user.
func (a *authenticator) mockScram(user string) *scramCredentials {
	mac := hmac.New(sha256.New, a.mockKey)
	mac.Write([]byte(user))
	sum := mac.Sum(nil)
	return &scramCredentials{
		salt:       sum[:scramSaltBytes],
		iterations: scramIterations,
		storedKey:  make([]byte, sha256.Size),
		serverKey:  make([]byte, sha256.Size),
	}
}

// checkPlain verifies a cleartext password against any stored form.
func (a *authenticator) checkPlain(user, password string) bool {
	us := a.users[user]
	if us == nil || password == "" {
		return false
	}
	switch {
	case us.hasPlain:
		return subtle.ConstantTimeCompare([]byte(us.plain), []byte(password)) == 1
	case us.md5 != "":
		return subtle.ConstantTimeCompare([]byte(us.md5), []byte("md5"+md5Hex(password+user))) == 1
	case us.scram != nil:
		c, err := deriveScram(password, us.scram.salt, us.scram.iterations)
		return err == nil && subtle.ConstantTimeCompare(c.storedKey, us.scram.storedKey) == 1
	}
	return false
}

func authFailed(user string) *pgerr.Error {
	return fatal(pgerr.InvalidPassword, "password authentication failed for user \"%s\"", user)
}

// authenticate runs the configured exchange. It returns a FATAL error to
// send when the client failed, or an I/O error when it went away (psql
// hangs up on purpose to prompt for a password).
func (c *conn) authenticate(user string) (*pgerr.Error, error) {
	a := c.srv.auth
	switch a.method {
	case AuthTrust:
		return nil, nil
	case AuthPassword:
		if err := c.sendAuth(&pgproto3.AuthenticationCleartextPassword{}); err != nil {
			return nil, err
		}
		pw, pe, err := c.readPassword()
		if pe != nil || err != nil {
			return pe, err
		}
		if !a.checkPlain(user, pw) {
			return authFailed(user), nil
		}
		return nil, nil
	case AuthMD5:
		if us := a.users[user]; us != nil && us.md5 == "" && us.scram != nil {
			return c.authScram(user) // like PostgreSQL: md5 upgrades to SCRAM for SCRAM-only users
		}
		return c.authMD5(user)
	}
	return c.authScram(user)
}

func (c *conn) sendAuth(msg pgproto3.BackendMessage) error {
	c.w.send(msg)
	return c.w.flush()
}

// readAuthMessage reads the next message, which must be a 'p' response.
func (c *conn) readAuthMessage() ([]byte, *pgerr.Error, error) {
	typ, body, err := c.fr.next()
	if err != nil {
		var fe *frameError
		if errors.As(err, &fe) {
			return nil, fe.pe, nil
		}
		return nil, nil, fmt.Errorf("%w: %w", errClientGone, err)
	}
	if typ != 'p' {
		return nil, fatal(pgerr.ProtocolViolation, "expected password response, got message type %d", typ), nil
	}
	return body, nil, nil
}

func (c *conn) readPassword() (string, *pgerr.Error, error) {
	body, pe, err := c.readAuthMessage()
	if pe != nil || err != nil {
		return "", pe, err
	}
	var pm pgproto3.PasswordMessage
	if err := pm.Decode(body); err != nil {
		return "", fatal(pgerr.ProtocolViolation, "invalid password packet"), nil
	}
	return pm.Password, nil, nil
}

func (c *conn) authMD5(user string) (*pgerr.Error, error) {
	var salt [4]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, err
	}
	if err := c.sendAuth(&pgproto3.AuthenticationMD5Password{Salt: salt}); err != nil {
		return nil, err
	}
	got, pe, err := c.readPassword()
	if pe != nil || err != nil {
		return pe, err
	}
	us := c.srv.auth.users[user]
	if us == nil || us.md5 == "" {
		return authFailed(user), nil
	}
	want := "md5" + md5Hex(us.md5[3:]+string(salt[:]))
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return authFailed(user), nil
	}
	return nil, nil
}

func (c *conn) authScram(user string) (*pgerr.Error, error) {
	a := c.srv.auth
	creds, mock := a.scramFor(user), false
	if creds == nil {
		creds, mock = a.mockScram(user), true
	}
	if err := c.sendAuth(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scramMechanism}}); err != nil {
		return nil, err
	}
	body, pe, err := c.readAuthMessage()
	if pe != nil || err != nil {
		return pe, err
	}
	var first pgproto3.SASLInitialResponse
	if err := first.Decode(body); err != nil {
		return fatal(pgerr.ProtocolViolation, "malformed SASL initial response"), nil
	}
	if first.AuthMechanism != scramMechanism {
		return fatal(pgerr.ProtocolViolation, "client selected an invalid SASL authentication mechanism"), nil
	}
	s := newScramServer(creds, mock)
	nonce := make([]byte, scramNonceBytes)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	serverFirst, err := s.clientFirst(first.Data, base64.StdEncoding.EncodeToString(nonce))
	if err != nil {
		return scramFatal(err), nil
	}
	if err := c.sendAuth(&pgproto3.AuthenticationSASLContinue{Data: serverFirst}); err != nil {
		return nil, err
	}
	body, pe, err = c.readAuthMessage()
	if pe != nil || err != nil {
		return pe, err
	}
	serverFinal, err := s.clientFinal(body) // a SASLResponse body is the raw data
	switch {
	case errors.Is(err, errScramAuth):
		return authFailed(user), nil
	case err != nil:
		return scramFatal(err), nil
	}
	c.w.send(&pgproto3.AuthenticationSASLFinal{Data: serverFinal})
	return nil, nil
}

func scramFatal(err error) *pgerr.Error {
	detail := strings.TrimPrefix(err.Error(), errScramMalformed.Error()+": ")
	return fatal(pgerr.ProtocolViolation, "malformed SCRAM message").WithDetail("%s", detail)
}
