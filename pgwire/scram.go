package pgwire

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding: the server
// side as a pure state machine. It takes client messages and returns the
// server's replies; the connection driver does the I/O.

const (
	scramMechanism      = "SCRAM-SHA-256"
	scramIterations     = 4096 // PostgreSQL's scram_iterations default
	scramSaltBytes      = 16
	scramNonceBytes     = 18
	scramVerifierPrefix = "SCRAM-SHA-256$"
)

var (
	errScramMalformed = errors.New("pgwire: malformed SCRAM message")
	errScramAuth      = errors.New("pgwire: SCRAM proof does not match")
)

// scramCredentials is what a server stores for a user (a verifier).
type scramCredentials struct {
	salt       []byte
	iterations int
	storedKey  []byte
	serverKey  []byte
}

func deriveScram(password string, salt []byte, iterations int) (*scramCredentials, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return nil, err
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return &scramCredentials{
		salt:       salt,
		iterations: iterations,
		storedKey:  stored[:],
		serverKey:  hmacSHA256(salted, "Server Key"),
	}, nil
}

// parseScramVerifier reads PostgreSQL's stored form
// "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" (base64).
func parseScramVerifier(v string) (*scramCredentials, error) {
	rest, ok := strings.CutPrefix(v, scramVerifierPrefix)
	if !ok {
		return nil, errScramMalformed
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, errScramMalformed
	}
	iterText, saltText, ok1 := strings.Cut(iterSalt, ":")
	storedText, serverText, ok2 := strings.Cut(keys, ":")
	iter, err := strconv.Atoi(iterText)
	if !ok1 || !ok2 || err != nil || iter < 1 {
		return nil, errScramMalformed
	}
	salt, err1 := base64.StdEncoding.DecodeString(saltText)
	stored, err2 := base64.StdEncoding.DecodeString(storedText)
	server, err3 := base64.StdEncoding.DecodeString(serverText)
	if err1 != nil || err2 != nil || err3 != nil || len(stored) != sha256.Size || len(server) != sha256.Size {
		return nil, errScramMalformed
	}
	return &scramCredentials{salt: salt, iterations: iter, storedKey: stored, serverKey: server}, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	_, _ = io.WriteString(h, msg)
	return h.Sum(nil)
}

type scramState int

const (
	scramAwaitFirst scramState = iota
	scramAwaitFinal
	scramDone
)

// scramServer runs one exchange. A nil-credential exchange (unknown user)
// runs to the end with made-up parameters and then fails, so a client
// cannot tell a wrong user from a wrong password.
type scramServer struct {
	creds           *scramCredentials
	mock            bool
	state           scramState
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string
}

func newScramServer(creds *scramCredentials, mock bool) *scramServer {
	return &scramServer{creds: creds, mock: mock}
}

func malformed(detail string, args ...any) error {
	return fmt.Errorf("%w: %s", errScramMalformed, fmt.Sprintf(detail, args...))
}

// clientFirst consumes client-first-message and returns server-first-message.
// serverNonce is the server's half of the nonce (printable, from random
// bytes); the caller supplies it so the machine stays deterministic.
func (s *scramServer) clientFirst(msg []byte, serverNonce string) ([]byte, error) {
	if s.state != scramAwaitFirst {
		return nil, malformed("unexpected client-first-message")
	}
	m := string(msg)
	if len(m) < 3 {
		return nil, malformed("message too short")
	}
	switch m[0] {
	case 'n', 'y': // no binding; "y": client could bind but thinks we cannot (true)
		if m[1] != ',' {
			return nil, malformed("comma expected after channel binding flag")
		}
	case 'p':
		return nil, malformed("channel binding is not supported")
	default:
		return nil, malformed("unexpected channel binding flag %q", m[0])
	}
	authzid, bare, ok := strings.Cut(m[2:], ",")
	if !ok {
		return nil, malformed("incomplete GS2 header")
	}
	if authzid != "" {
		return nil, malformed("authorization identity is not supported")
	}
	s.gs2Header = m[:len(m)-len(bare)]
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, malformed("expected n= and r= attributes")
	}
	for _, a := range attrs[2:] {
		if strings.HasPrefix(a, "m=") {
			return nil, malformed("mandatory extensions are not supported")
		}
	}
	clientNonce := attrs[1][2:]
	if clientNonce == "" || !printableNonce(clientNonce) {
		return nil, malformed("invalid client nonce")
	}
	s.clientFirstBare = bare
	s.nonce = clientNonce + serverNonce
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(s.creds.salt) +
		",i=" + strconv.Itoa(s.creds.iterations)
	s.state = scramAwaitFinal
	return []byte(s.serverFirst), nil
}

func printableNonce(n string) bool {
	for i := 0; i < len(n); i++ {
		if n[i] < 0x21 || n[i] > 0x7e || n[i] == ',' {
			return false
		}
	}
	return true
}

// clientFinal verifies client-final-message and returns
// server-final-message; errScramAuth means a wrong password.
func (s *scramServer) clientFinal(msg []byte) ([]byte, error) {
	if s.state != scramAwaitFinal {
		return nil, malformed("unexpected client-final-message")
	}
	s.state = scramDone
	m := string(msg)
	proofAt := strings.LastIndex(m, ",p=")
	if proofAt < 0 {
		return nil, malformed("proof missing")
	}
	withoutProof := m[:proofAt]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, malformed("expected c= and r= attributes")
	}
	cbind, err := base64.StdEncoding.DecodeString(attrs[0][2:])
	if err != nil || string(cbind) != s.gs2Header {
		return nil, malformed("unexpected channel binding data")
	}
	if attrs[1][2:] != s.nonce {
		return nil, malformed("nonce does not match")
	}
	proof, err := base64.StdEncoding.DecodeString(m[proofAt+3:])
	if err != nil || len(proof) != sha256.Size {
		return nil, malformed("invalid proof")
	}
	authMessage := s.clientFirstBare + "," + s.serverFirst + "," + withoutProof
	clientSig := hmacSHA256(s.creds.storedKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	subtle.XORBytes(clientKey, proof, clientSig)
	got := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(got[:], s.creds.storedKey) != 1 || s.mock {
		return nil, errScramAuth
	}
	serverSig := hmacSHA256(s.creds.serverKey, authMessage)
	var out bytes.Buffer
	out.WriteString("v=")
	out.WriteString(base64.StdEncoding.EncodeToString(serverSig))
	return out.Bytes(), nil
}
