package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Header names of a delivery. Standard Webhooks names are lower case as in
// the specification; net/http canonicalises them on the wire, and header
// names are case-insensitive.
const (
	HeaderWebhookID      = "webhook-id"
	HeaderTimestamp      = "webhook-timestamp"
	HeaderSignature      = "webhook-signature"
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderFencingToken   = "Chr2-Fencing-Token"
	HeaderAttempt        = "Chr2-Attempt"
	HeaderOrderingKey    = "Chr2-Ordering-Key"
	HeaderFenced         = "Chr2-Fenced"
)

// secretPrefix marks a Standard Webhooks secret.
const secretPrefix = "whsec_"

// Response handling limits: enough of the body for a useful last_error,
// and a bounded drain so keep-alive connections can be reused.
const (
	errorBodyPrefixBytes = 160
	maxDrainBytes        = 64 << 10
)

// Outcome classifies an attempt.
type Outcome int

// Attempt outcomes.
const (
	OutcomeFailed    Outcome = iota // not delivered; retry per policy
	OutcomeDelivered                // 2xx
	OutcomeFenced                   // 409 + Chr2-Fenced: true; stop this term
)

func (o Outcome) String() string {
	switch o {
	case OutcomeDelivered:
		return "delivered"
	case OutcomeFenced:
		return "fenced"
	}
	return "failed"
}

// Request is one delivery attempt.
type Request struct {
	EffectID    string
	Attempt     int
	Term        uint64
	OrderingKey string
	Payload     []byte
	URL         string
	Key         []byte // decoded signing key; nil = unsigned
}

// Result is what a Sender reports about an attempt.
type Result struct {
	Outcome    Outcome
	StatusCode int           // 0 when no response arrived
	Err        string        // short and secret-free; empty on success
	RetryAfter time.Duration // from Retry-After on a failure; 0 = none
}

// Sender delivers attempts. It must honour ctx: the dispatcher cancels it
// at the attempt timeout and when leadership ends.
type Sender interface {
	Send(ctx context.Context, req Request) Result
}

// WebhookSender delivers effects as Standard Webhooks HTTP POSTs.
type WebhookSender struct {
	client *http.Client
	now    func() time.Time
}

var _ Sender = (*WebhookSender)(nil)

// NewWebhookSender returns a sender using client, or a default client that
// does not follow redirects when client is nil. now stamps webhook-timestamp
// (wall clock when nil): receivers check it against their own clock, so it is
// the sender's clock, not the block time.
func NewWebhookSender(client *http.Client, now func() time.Time) *WebhookSender {
	if client == nil {
		client = defaultHTTPClient()
	}
	if now == nil {
		now = time.Now
	}
	return &WebhookSender{client: client, now: now}
}

func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.MaxIdleConns = 256
	return &http.Client{
		Transport: tr,
		// A redirect is not a delivery: the sink should be configured with
		// the final URL, and following one would re-send the body elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Send posts the payload and classifies the response.
func (s *WebhookSender) Send(ctx context.Context, r Request) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Payload))
	if err != nil {
		return Result{Err: "invalid sink url"}
	}
	ts := s.now().Unix()
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "chr2sql-outbox/1")
	h.Set(HeaderWebhookID, r.EffectID)
	h.Set(HeaderIdempotencyKey, r.EffectID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	var sig string
	if r.Key != nil {
		sig = Sign(r.Key, r.EffectID, ts, r.Payload)
		h.Set(HeaderSignature, sig)
	}
	h.Set(HeaderFencingToken, strconv.FormatUint(r.Term, 10))
	h.Set(HeaderAttempt, strconv.Itoa(r.Attempt))
	if r.OrderingKey != "" {
		h.Set(HeaderOrderingKey, r.OrderingKey)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{Err: describeSendError(ctx, err)}
	}
	defer resp.Body.Close()
	res := classify(resp, s.now())
	if sig != "" && res.Err != "" {
		// A sink that echoes request headers must not get the signature
		// into last_error.
		res.Err = strings.ReplaceAll(res.Err, sig[len("v1,"):], "[redacted]")
	}
	return res
}

func classify(resp *http.Response, now time.Time) Result {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
		return Result{Outcome: OutcomeDelivered, StatusCode: code}
	}
	prefix, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyPrefixBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	if code == http.StatusConflict && strings.EqualFold(strings.TrimSpace(resp.Header.Get(HeaderFenced)), "true") {
		return Result{Outcome: OutcomeFenced, StatusCode: code, Err: "fenced by sink (409)"}
	}
	res := Result{Outcome: OutcomeFailed, StatusCode: code}
	res.Err = "http " + strconv.Itoa(code)
	if body := oneLine(prefix); body != "" {
		res.Err += ": " + body
	}
	if ra, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		res.RetryAfter = ra
	}
	return res
}

// describeSendError turns a transport error into a short message without the
// URL (which may carry credentials in its user info or query).
func describeSendError(ctx context.Context, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case ctx.Err() != nil:
		return "canceled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oneLine([]byte(oe.Op + ": " + oe.Err.Error()))
	}
	return oneLine([]byte(err.Error()))
}

// oneLine makes a short single-line printable excerpt.
func oneLine(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return clip(s, errorBodyPrefixBytes)
}

// Sign returns the webhook-signature header value for one message:
// "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")).
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, timestamp, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// DecodeSecret returns the HMAC key of a "whsec_<base64>" secret (the prefix
// is optional). The error never contains the secret.
func DecodeSecret(secret Secret) ([]byte, error) {
	s := strings.TrimPrefix(strings.TrimSpace(string(secret)), secretPrefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not whsec_ followed by standard base64", ErrBadSecret)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: empty key", ErrBadSecret)
	}
	return key, nil
}
