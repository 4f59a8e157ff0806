package receiver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Verification errors.
var (
	ErrMissingHeaders = errors.New("receiver: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadTimestamp   = errors.New("receiver: webhook-timestamp is not unix seconds")
	ErrStale          = errors.New("receiver: webhook-timestamp outside the tolerance")
	ErrBadSignature   = errors.New("receiver: no matching signature")
	ErrBadSecret      = errors.New("receiver: secret is not whsec_ followed by base64")
)

// maxSignatures bounds the work an attacker can cause with a long header.
const maxSignatures = 16

// DecodeSecret returns the HMAC key of a "whsec_<base64>" secret; the prefix
// is optional, as in the Standard Webhooks reference libraries.
func DecodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(secret), "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// Verify checks one message: the timestamp is within tolerance of now and one
// of the v1 signatures in sigHeader is HMAC-SHA256(key, id.timestamp.body).
func Verify(key []byte, id, timestamp, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if id == "" || timestamp == "" || sigHeader == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	sent := time.Unix(ts, 0)
	if sent.Before(now.Add(-tolerance)) || sent.After(now.Add(tolerance)) {
		return ErrStale
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	want := m.Sum(nil)
	for i, entry := range strings.Fields(sigHeader) {
		if i >= maxSignatures {
			break
		}
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}
