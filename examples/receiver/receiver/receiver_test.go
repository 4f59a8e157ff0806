package receiver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var now = time.Unix(1700000000, 0)

// sign is the test's own signer, written from the specification rather than
// shared with the code under test.
func sign(secret, id string, ts int64, body string) string {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

type post struct {
	id, body, sig string
	ts            int64
	token         string
	attempt       string
	key           string
}

func (p post) do(h http.Handler) *httptest.ResponseRecorder {
	if p.ts == 0 {
		p.ts = now.Unix()
	}
	if p.body == "" {
		p.body = `{"n":1}`
	}
	if p.sig == "" {
		p.sig = sign(testSecret, p.id, p.ts, p.body)
	}
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(p.body))
	r.Header.Set("webhook-id", p.id)
	r.Header.Set("webhook-timestamp", strconv.FormatInt(p.ts, 10))
	r.Header.Set("webhook-signature", p.sig)
	if p.token != "" {
		r.Header.Set("Chr2-Fencing-Token", p.token)
	}
	if p.attempt != "" {
		r.Header.Set("Chr2-Attempt", p.attempt)
	}
	if p.key != "" {
		r.Header.Set("Chr2-Ordering-Key", p.key)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newHandler(t *testing.T, cfg Config) *Handler {
	t.Helper()
	if cfg.Secret == "" && !cfg.AllowUnsigned {
		cfg.Secret = testSecret
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func TestVerifyStandardVector(t *testing.T) {
	key, err := DecodeSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"test": 2432232314}`)
	at := time.Unix(1614265330, 0)
	good := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if err := Verify(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good, body, at, time.Minute); err != nil {
		t.Fatalf("reference vector rejected: %v", err)
	}
	// Key rotation: several signatures, one good.
	if err := Verify(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,bm9wZQ== v2,xyz "+good, body, at, time.Minute); err != nil {
		t.Fatalf("rotated header rejected: %v", err)
	}
	cases := map[string]struct {
		id, ts, sig string
		body        []byte
		at          time.Time
		want        error
	}{
		"tampered body":     {"msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good, []byte(`{"test": 2432232315}`), at, ErrBadSignature},
		"other id":          {"msg_other", "1614265330", good, body, at, ErrBadSignature},
		"expired":           {"msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good, body, at.Add(2 * time.Minute), ErrStale},
		"from the future":   {"msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good, body, at.Add(-2 * time.Minute), ErrStale},
		"v2 only":           {"msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v2," + good[3:], body, at, ErrBadSignature},
		"no signature":      {"msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "", body, at, ErrMissingHeaders},
		"timestamp garbage": {"msg_p5jXN8AQM9LWM0D4loKWxJek", "soon", good, body, at, ErrBadTimestamp},
	}
	for name, c := range cases {
		if err := Verify(key, c.id, c.ts, c.sig, c.body, c.at, time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, c.want)
		}
	}
}

func TestSignatureChecksOverHTTP(t *testing.T) {
	h := newHandler(t, Config{})
	cases := []struct {
		name string
		p    post
		code int
	}{
		{"good", post{id: "a"}, 200},
		{"bad signature", post{id: "b", sig: sign("whsec_b3RoZXIta2V5", "b", now.Unix(), `{"n":1}`)}, 401},
		{"expired", post{id: "c", ts: now.Add(-10 * time.Minute).Unix(), sig: sign(testSecret, "c", now.Add(-10*time.Minute).Unix(), `{"n":1}`)}, 401},
		{"missing id", post{id: ""}, 400},
		{"not json", post{id: "d", body: "hello"}, 400},
	}
	for _, c := range cases {
		if w := c.p.do(h); w.Code != c.code {
			t.Errorf("%s: status %d (%s), want %d", c.name, w.Code, strings.TrimSpace(w.Body.String()), c.code)
		}
	}
	if got := h.Received(); len(got) != 1 || got[0].ID != "a" {
		t.Fatalf("received %+v, want only a", got)
	}
	if s := h.Stats(); s.Accepted != 1 || s.Rejected != 4 {
		t.Fatalf("stats %+v", s)
	}
	big := post{id: "big", body: `"` + strings.Repeat("x", 2<<20) + `"`}
	if w := big.do(h); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", w.Code)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("a receiver without a secret must be refused unless AllowUnsigned")
	}
	if _, err := New(Config{Secret: "whsec_!!"}); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("bad secret: %v", err)
	}
}

func TestDedupe(t *testing.T) {
	processed := 0
	h := newHandler(t, Config{Process: func(Delivery) error { processed++; return nil }})
	for i := 0; i < 3; i++ {
		if w := (post{id: "same", token: "2", attempt: strconv.Itoa(i + 1)}).do(h); w.Code != 200 {
			t.Fatalf("delivery %d: %d", i, w.Code)
		}
	}
	if processed != 1 || len(h.Received()) != 1 || h.Stats().Duplicates != 2 {
		t.Fatalf("processed %d, received %d, stats %+v", processed, len(h.Received()), h.Stats())
	}
	// Concurrent duplicates: still exactly one.
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); (post{id: "race", token: "2"}).do(h) }()
	}
	wg.Wait()
	if processed != 2 {
		t.Fatalf("concurrent duplicates processed %d times", processed-1)
	}
}

func TestProcessFailureIsRetried(t *testing.T) {
	fail := true
	h := newHandler(t, Config{Process: func(Delivery) error {
		if fail {
			return errors.New("db down")
		}
		return nil
	}})
	if w := (post{id: "x", token: "1"}).do(h); w.Code != 500 {
		t.Fatalf("failed processing answered %d", w.Code)
	}
	fail = false
	if w := (post{id: "x", token: "1"}).do(h); w.Code != 200 || len(h.Received()) != 1 || h.Stats().Duplicates != 0 {
		t.Fatalf("retry after a failure: %d, %+v", w.Code, h.Stats())
	}
}

func TestFencing(t *testing.T) {
	h := newHandler(t, Config{})
	steps := []struct {
		id, token string
		code      int
	}{
		{"e1", "5", 200},
		{"e2", "4", 409}, // deposed leader
		{"e1", "4", 409}, // even a duplicate from it is refused
		{"e3", "5", 200},
		{"e4", "", 200}, // no token: not a chr2 sender, not checked
		{"e5", "7", 200},
		{"e6", "5", 409},
	}
	for i, s := range steps {
		w := (post{id: s.id, token: s.token}).do(h)
		if w.Code != s.code {
			t.Fatalf("step %d (%s token %s): %d, want %d", i, s.id, s.token, w.Code, s.code)
		}
		if fenced := w.Header().Get("Chr2-Fenced"); (s.code == 409) != (fenced == "true") {
			t.Fatalf("step %d: Chr2-Fenced = %q", i, fenced)
		}
	}
	if s := h.Stats(); s.Fenced != 3 || s.HighestToken != 7 || s.Accepted != 4 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLedgerReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	h := newHandler(t, Config{LedgerPath: path})
	(post{id: "a", token: "3", key: "k1", attempt: "2"}).do(h)
	(post{id: "b", token: "3"}).do(h)
	(post{id: "a", token: "6"}).do(h) // duplicate that raises the mark: a fence line
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2 := newHandler(t, Config{LedgerPath: path})
	got := h2.Received()
	if len(got) != 2 || got[0].ID != "a" || got[0].OrderingKey != "k1" || got[0].Attempt != 2 || string(got[0].Payload) != `{"n":1}` {
		t.Fatalf("replayed %+v", got)
	}
	if w := (post{id: "b", token: "6"}).do(h2); w.Code != 200 || h2.Stats().Duplicates != 1 {
		t.Fatalf("replayed id not deduped: %d %+v", w.Code, h2.Stats())
	}
	if w := (post{id: "c", token: "5"}).do(h2); w.Code != 409 {
		t.Fatalf("fence mark lost across restart: %d", w.Code)
	}
	if err := os.WriteFile(path, []byte("{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Secret: testSecret, LedgerPath: path}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("corrupt ledger accepted: %v", err)
	}
}

func TestRoutes(t *testing.T) {
	h := newHandler(t, Config{})
	(post{id: "a"}).do(h)
	for path, want := range map[string]string{"/received": `"id":"a"`, "/stats": `"accepted":1`} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s = %d %s", path, w.Code, w.Body.String())
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodDelete, "/hook", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE = %d", w.Code)
	}
}

func FuzzVerify(f *testing.F) {
	key, _ := DecodeSecret(testSecret)
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("id", "-1", "v1, v1,,", []byte{})
	f.Add("", "", "", []byte(nil))
	f.Add("a", "99999999999999999999", "v1,====", []byte("x"))
	at := time.Unix(1614265330, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		err := Verify(key, id, ts, sig, body, at, time.Hour)
		if err != nil {
			return
		}
		// Accepted: the header must really contain the right signature.
		tsn, _ := strconv.ParseInt(ts, 10, 64)
		want := sign(testSecret, id, tsn, string(body))
		if !strings.Contains(sig, want[3:]) || strconv.FormatInt(tsn, 10) != ts {
			t.Fatalf("forged message accepted: id %q ts %q sig %q", id, ts, sig)
		}
	})
}
