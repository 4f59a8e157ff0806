package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks reference test vector: proves interoperability, not
// just agreement with our own verifier.
func TestSignStandardWebhooksVector(t *testing.T) {
	key, err := DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	noPrefix, err := DecodeSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil || string(noPrefix) != string(key) {
		t.Fatalf("prefix-less secret decoded differently: %v", err)
	}
}

func TestDecodeSecretErrorsHideSecret(t *testing.T) {
	for _, s := range []Secret{"whsec_not base64!!", "whsec_", "hunter2-secret"} {
		_, err := DecodeSecret(s)
		if !errors.Is(err, ErrBadSecret) {
			t.Fatalf("DecodeSecret(%q) = %v, want ErrBadSecret", s, err)
		}
		if strings.Contains(err.Error(), strings.TrimPrefix(string(s), "whsec_")) && len(s) > 6 {
			t.Fatalf("error %q reveals the secret", err)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Sink{Name: "x", Secret: "whsec_c2VjcmV0LWtleQ=="}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), s.Secret.String()} {
		if strings.Contains(out, "c2VjcmV0") {
			t.Fatalf("secret printed: %s", out)
		}
	}
}

func sendTo(t *testing.T, h http.HandlerFunc, req Request) Result {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if req.URL == "" {
		req.URL = srv.URL
	}
	return NewWebhookSender(nil, nil).Send(context.Background(), req)
}

func TestSendClassifiesResponses(t *testing.T) {
	cases := []struct {
		name    string
		h       http.HandlerFunc
		outcome Outcome
		errHas  string
		ra      time.Duration
	}{
		{"200", func(w http.ResponseWriter, r *http.Request) {}, OutcomeDelivered, "", 0},
		{"204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, OutcomeDelivered, "", 0},
		{"503 retry-after", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "42")
			http.Error(w, "overloaded\r\nplease\twait", http.StatusServiceUnavailable)
		}, OutcomeFailed, "http 503: overloaded please wait", 42 * time.Second},
		{"409 fenced", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(HeaderFenced, "true")
			w.WriteHeader(409)
		}, OutcomeFenced, "fenced", 0},
		{"409 plain conflict", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(409) }, OutcomeFailed, "http 409", 0},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, OutcomeFailed, "http 307", 0},
		{"long body clipped", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			_, _ = io.WriteString(w, strings.Repeat("z", 10000))
		}, OutcomeFailed, "http 500: zzz", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := sendTo(t, c.h, Request{EffectID: "e", Attempt: 1, Term: 1, Payload: []byte(`{}`)})
			if res.Outcome != c.outcome || !strings.Contains(res.Err, c.errHas) || res.RetryAfter != c.ra {
				t.Fatalf("Send = %+v; want outcome %v, err containing %q, retry-after %v", res, c.outcome, c.errHas, c.ra)
			}
			if len(res.Err) > errorBodyPrefixBytes+20 {
				t.Fatalf("error text of %d bytes is not short", len(res.Err))
			}
		})
	}
}

func TestSendErrorsAreSecretFree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	u := "http://admin:pa55word@" + addr + "/hook?token=tok-secret-123"
	res := NewWebhookSender(nil, nil).Send(context.Background(), Request{EffectID: "e", URL: u, Payload: []byte(`{}`)})
	if res.Outcome != OutcomeFailed || res.Err == "" {
		t.Fatalf("Send to a closed port = %+v", res)
	}
	for _, leak := range []string{"pa55word", "tok-secret-123", "admin"} {
		if strings.Contains(res.Err, leak) {
			t.Fatalf("error %q leaks %q", res.Err, leak)
		}
	}
	// A sink that echoes the signature must not get it into last_error.
	key := []byte("k")
	res = sendTo(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, "bad sig "+strings.TrimPrefix(r.Header.Get(HeaderSignature), "v1,"))
	}, Request{EffectID: "e", Payload: []byte(`{}`), Key: key})
	if !strings.Contains(res.Err, "[redacted]") {
		t.Fatalf("echoed signature not redacted: %q", res.Err)
	}
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release) // runs first: the handler must end before Close waits for it
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res := NewWebhookSender(nil, nil).Send(ctx, Request{EffectID: "e", URL: srv.URL, Payload: []byte(`{}`)})
	if res.Outcome != OutcomeFailed || res.Err != "timeout" {
		t.Fatalf("Send past its deadline = %+v, want failed/timeout", res)
	}
}

func TestSendHeaders(t *testing.T) {
	var got http.Header
	var body string
	key := []byte("0123456789abcdef")
	fixed := time.Unix(1700000000, 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		body = string(b)
	}))
	defer srv.Close()
	s := NewWebhookSender(nil, func() time.Time { return fixed })
	res := s.Send(context.Background(), Request{EffectID: "eff-1", Attempt: 3, Term: 9, OrderingKey: "cust-7",
		Payload: []byte(`{"a":1}`), URL: srv.URL, Key: key})
	if res.Outcome != OutcomeDelivered {
		t.Fatalf("Send = %+v", res)
	}
	want := map[string]string{
		"Content-Type": "application/json", "webhook-id": "eff-1", "Idempotency-Key": "eff-1",
		"webhook-timestamp": "1700000000", "Chr2-Fencing-Token": "9", "Chr2-Attempt": "3",
		"Chr2-Ordering-Key": "cust-7", "webhook-signature": Sign(key, "eff-1", 1700000000, []byte(`{"a":1}`)),
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, got.Get(k), v)
		}
	}
	if body != `{"a":1}` {
		t.Errorf("body = %q", body)
	}
	// Unsigned sink, no ordering key: those headers are absent.
	_ = s.Send(context.Background(), Request{EffectID: "eff-2", Attempt: 1, Term: 9, Payload: []byte(`{}`), URL: srv.URL})
	if got.Get(HeaderSignature) != "" || got.Get(HeaderOrderingKey) != "" || len(got.Values(HeaderOrderingKey)) != 0 {
		t.Errorf("unexpected headers on an unsigned, unkeyed delivery: %v", got)
	}
}

func FuzzDecodeSecret(f *testing.F) {
	for _, s := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "", "whsec_====", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := DecodeSecret(Secret(s))
		if err != nil {
			if !errors.Is(err, ErrBadSecret) || (len(s) > 8 && strings.Contains(err.Error(), s)) {
				t.Fatalf("DecodeSecret error %v", err)
			}
			return
		}
		if len(key) == 0 {
			t.Fatal("empty key accepted")
		}
	})
}
