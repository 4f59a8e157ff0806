package pgwire

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestScramRFC7677 replays the example exchange of RFC 7677 section 3.
func TestScramRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	creds, err := deriveScram("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	s := newScramServer(creds, false)
	first, err := s.clientFirst([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"), "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
	if err != nil {
		t.Fatal(err)
	}
	if want := "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"; string(first) != want {
		t.Fatalf("server-first %q, want %q", first, want)
	}
	final, err := s.clientFinal([]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; string(final) != want {
		t.Fatalf("server-final %q, want %q", final, want)
	}
}

func TestScramRejects(t *testing.T) {
	salt := []byte("0123456789abcdef")
	creds, _ := deriveScram("pencil", salt, 4096)
	const nonce = "srv"
	cases := []struct {
		name        string
		first, last string
		wantAuth    bool // errScramAuth rather than malformed
	}{
		{"channel binding requested", "p=tls-server-end-point,,n=,r=abc", "", false},
		{"authzid", "n,a=admin,n=,r=abc", "", false},
		{"no nonce", "n,,n=", "", false},
		{"mandatory extension", "n,,n=,r=abc,m=x", "", false},
		{"wrong nonce", "n,,n=,r=abc", "c=biws,r=abcXXX,p=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), false},
		{"wrong binding", "n,,n=,r=abc", "c=eSws,r=abcsrv,p=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), false},
		{"short proof", "n,,n=,r=abc", "c=biws,r=abcsrv,p=AAAA", false},
		{"wrong proof", "n,,n=,r=abc", "c=biws,r=abcsrv,p=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), true},
	}
	for _, c := range cases {
		s := newScramServer(creds, false)
		_, err := s.clientFirst([]byte(c.first), nonce)
		if err == nil && c.last != "" {
			_, err = s.clientFinal([]byte(c.last))
		}
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if errors.Is(err, errScramAuth) != c.wantAuth {
			t.Errorf("%s: error %v", c.name, err)
		}
	}
	// A mock exchange (unknown user) fails even with a "right" proof.
	s := newScramServer(creds, true)
	if _, err := s.clientFirst([]byte("n,,n=,r=abc"), nonce); err != nil {
		t.Fatal(err)
	}
	if _, err := s.clientFinal([]byte(scramClientFinal(t, "pencil", salt, "n,,n=,r=abc", "abc"+nonce))); !errors.Is(err, errScramAuth) {
		t.Fatalf("mock exchange: %v", err)
	}
}

// scramClientFinal computes a correct client-final-message, as a client
// would (test-only client side of RFC 5802).
func scramClientFinal(t *testing.T, password string, salt []byte, clientFirst, nonce string) string {
	t.Helper()
	salted, err := pbkdf2.Key(sha256.New, password, salt, 4096, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	serverFirst := "r=" + nonce + ",s=" + base64.StdEncoding.EncodeToString(salt) + ",i=4096"
	withoutProof := "c=biws,r=" + nonce
	sig := hmacSHA256(stored[:], clientFirst[3:]+","+serverFirst+","+withoutProof)
	proof := make([]byte, sha256.Size)
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
}

// scramVerifier formats credentials the way PostgreSQL stores them.
func scramVerifier(t *testing.T, password string) string {
	salt := []byte("fixed-salt-16byt")
	c, err := deriveScram(password, salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("SCRAM-SHA-256$4096:%s$%s:%s", base64.StdEncoding.EncodeToString(salt),
		base64.StdEncoding.EncodeToString(c.storedKey), base64.StdEncoding.EncodeToString(c.serverKey))
}

func tryConnect(addr, user, password string) error {
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/db?sslmode=disable", user, password, addr))
	if err != nil {
		return err
	}
	var n int64
	err = conn.QueryRow(ctx, "series 1").Scan(&n)
	_ = conn.Close(ctx)
	return err
}

// TestAuthMethods connects with pgx under every method: the right password
// works, a wrong one or an unknown user is FATAL 28P01 with the same message.
func TestAuthMethods(t *testing.T) {
	users := map[string]string{
		"alice": "s3cret",
		"vera":  "", // filled below with a SCRAM verifier
		"mona":  "md5" + md5Hex("m0npass"+"mona"),
	}
	users["vera"] = scramVerifier(t, "v3rpass")
	for _, method := range []string{AuthPassword, AuthMD5, AuthScramSHA256} {
		t.Run(method, func(t *testing.T) {
			ts := startServer(t, func(c *Config) { c.Auth = AuthConfig{Method: method, Users: users} })
			if err := tryConnect(ts.addr, "alice", "s3cret"); err != nil {
				t.Fatalf("right password: %v", err)
			}
			// A verifier works for SCRAM and cleartext (and md5 falls back to SCRAM).
			if err := tryConnect(ts.addr, "vera", "v3rpass"); err != nil {
				t.Errorf("verifier user: %v", err)
			}
			// A stored md5 hash works for md5 and cleartext, not for SCRAM.
			err := tryConnect(ts.addr, "mona", "m0npass")
			if (err == nil) != (method != AuthScramSHA256) {
				t.Errorf("md5-hash user: %v", err)
			}
			for _, c := range []struct{ user, pw string }{{"alice", "wrong"}, {"nobody", "s3cret"}, {"alice", ""}} {
				err := tryConnect(ts.addr, c.user, c.pw)
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != "28P01" || pe.Severity != "FATAL" ||
					pe.Message != fmt.Sprintf("password authentication failed for user \"%s\"", c.user) {
					t.Errorf("%s/%q: got %v, want FATAL 28P01", c.user, c.pw, err)
				}
			}
			for _, e := range ts.logs.All() {
				for _, f := range e.Context {
					if s := f.String; s == "s3cret" || s == "wrong" {
						t.Errorf("a password reached the log: %v", e)
					}
				}
			}
		})
	}
}

func TestAuthTrustIgnoresPasswords(t *testing.T) {
	ts := startServer(t, nil)
	if err := tryConnect(ts.addr, "anyone", "whatever"); err != nil {
		t.Fatal(err)
	}
}

func TestNewServerRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Engine: &fakeEngine{}, Auth: AuthConfig{Method: "kerberos"}},
		{Engine: &fakeEngine{}, Auth: AuthConfig{Method: AuthScramSHA256, Users: map[string]string{"u": "SCRAM-SHA-256$x"}}},
		{Engine: &fakeEngine{}, MaxConnections: -1},
	} {
		if _, err := NewServer(cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("NewServer(%+v) = %v, want ErrBadConfig", cfg.Auth, err)
		}
	}
}

// TestScramRoundTrip runs the machine against the test client with the
// right password.
func TestScramRoundTrip(t *testing.T) {
	salt := []byte("0123456789abcdef")
	creds, _ := deriveScram("pencil", salt, 4096)
	s := newScramServer(creds, false)
	if _, err := s.clientFirst([]byte("n,,n=,r=abc"), "srv"); err != nil {
		t.Fatal(err)
	}
	final, err := s.clientFinal([]byte(scramClientFinal(t, "pencil", salt, "n,,n=,r=abc", "abcsrv")))
	if err != nil || len(final) < 3 {
		t.Fatalf("%q %v", final, err)
	}
}
