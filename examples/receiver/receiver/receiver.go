package receiver

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// Config configures a Handler.
type Config struct {
	Secret        string        // "whsec_…"; required unless AllowUnsigned
	AllowUnsigned bool          // accept deliveries without verifying signatures (testing only)
	Tolerance     time.Duration // allowed clock difference; default 5m
	MaxBodyBytes  int64         // default 1 MiB
	LedgerPath    string        // JSON-lines ledger; "" keeps deliveries in memory only
	SyncLedger    bool          // fsync after each ledger line
	Now           func() time.Time
	// Process is the application's work for one new delivery. An error
	// answers 500 and leaves the id unseen, so the sender retries.
	Process func(Delivery) error
}

// Delivery is one accepted webhook.
type Delivery struct {
	Type         string          `json:"type"`
	ID           string          `json:"id,omitempty"`
	Timestamp    int64           `json:"timestamp,omitempty"`
	FencingToken uint64          `json:"fencing_token"`
	Attempt      int             `json:"attempt,omitempty"`
	OrderingKey  string          `json:"ordering_key,omitempty"`
	Payload      json.RawMessage `json:"payload,omitempty"`
	ReceivedAt   time.Time       `json:"received_at,omitzero"`
}

// Stats counts what the handler answered.
type Stats struct {
	Accepted     int64  `json:"accepted"`
	Duplicates   int64  `json:"duplicates"`
	Fenced       int64  `json:"fenced"`
	Rejected     int64  `json:"rejected"`
	HighestToken uint64 `json:"highest_token"`
}

// Handler is the receiver's http.Handler.
type Handler struct {
	cfg Config
	key []byte

	mu       sync.Mutex
	seen     map[string]struct{}
	highest  uint64
	received []Delivery
	ledger   *os.File
	stats    Stats
}

// New builds a handler, replaying the ledger if it exists.
func New(cfg Config) (*Handler, error) {
	h := &Handler{cfg: cfg, seen: make(map[string]struct{})}
	if h.cfg.Tolerance <= 0 {
		h.cfg.Tolerance = 5 * time.Minute
	}
	if h.cfg.MaxBodyBytes <= 0 {
		h.cfg.MaxBodyBytes = 1 << 20
	}
	if h.cfg.Now == nil {
		h.cfg.Now = time.Now
	}
	if cfg.Secret != "" {
		key, err := DecodeSecret(cfg.Secret)
		if err != nil {
			return nil, err
		}
		h.key = key
	} else if !cfg.AllowUnsigned {
		return nil, errors.New("receiver: a secret is required (or set AllowUnsigned for tests)")
	}
	if cfg.LedgerPath != "" {
		if err := h.openLedger(cfg.LedgerPath); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (h *Handler) openLedger(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("receiver: open ledger: %w", err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), int(h.cfg.MaxBodyBytes)*2+4096)
	for line := 1; sc.Scan(); line++ {
		var d Delivery
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			f.Close()
			return fmt.Errorf("receiver: ledger %s line %d: %w", path, line, err)
		}
		h.highest = max(h.highest, d.FencingToken)
		if d.Type == "delivery" {
			h.seen[d.ID] = struct{}{}
			h.received = append(h.received, d)
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return fmt.Errorf("receiver: read ledger: %w", err)
	}
	h.ledger = f
	h.stats.HighestToken = h.highest
	return nil
}

// Close closes the ledger.
func (h *Handler) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ledger == nil {
		return nil
	}
	err := h.ledger.Close()
	h.ledger = nil
	return err
}

// Received returns a copy of the accepted deliveries, in acceptance order.
func (h *Handler) Received() []Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Delivery(nil), h.received...)
}

// Stats returns the counters.
func (h *Handler) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

// ServeHTTP routes: POST anything → a webhook; GET /received, GET /stats.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost:
		h.serveWebhook(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/received":
		writeJSON(w, h.Received())
	case r.Method == http.MethodGet && r.URL.Path == "/stats":
		writeJSON(w, h.Stats())
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Handler) reject(w http.ResponseWriter, code int, msg string) {
	h.mu.Lock()
	h.stats.Rejected++
	h.mu.Unlock()
	http.Error(w, msg, code)
}

func (h *Handler) serveWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		h.reject(w, http.StatusRequestEntityTooLarge, "body too large or unreadable")
		return
	}
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	if h.key != nil {
		if err := Verify(h.key, id, ts, r.Header.Get("webhook-signature"), body, h.cfg.Now(), h.cfg.Tolerance); err != nil {
			code := http.StatusUnauthorized
			if errors.Is(err, ErrMissingHeaders) || errors.Is(err, ErrBadTimestamp) {
				code = http.StatusBadRequest
			}
			h.reject(w, code, err.Error())
			return
		}
	}
	d, err := parseDelivery(r.Header, id, ts, body)
	if err != nil {
		h.reject(w, http.StatusBadRequest, err.Error())
		return
	}
	d.ReceivedAt = h.cfg.Now().UTC()
	code, msg := h.accept(d, r.Header.Get("Chr2-Fencing-Token") != "")
	if code == http.StatusConflict {
		w.Header().Set("Chr2-Fenced", "true")
	}
	if code != http.StatusOK {
		http.Error(w, msg, code)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func parseDelivery(hdr http.Header, id, ts string, body []byte) (Delivery, error) {
	d := Delivery{Type: "delivery", ID: id}
	if id == "" {
		return d, ErrMissingHeaders
	}
	var err error
	if d.Timestamp, err = strconv.ParseInt(ts, 10, 64); err != nil {
		return d, ErrBadTimestamp
	}
	if v := hdr.Get("Chr2-Fencing-Token"); v != "" {
		if d.FencingToken, err = strconv.ParseUint(v, 10, 64); err != nil {
			return d, errors.New("receiver: Chr2-Fencing-Token is not an unsigned integer")
		}
	}
	if v := hdr.Get("Chr2-Attempt"); v != "" {
		if d.Attempt, err = strconv.Atoi(v); err != nil {
			return d, errors.New("receiver: Chr2-Attempt is not an integer")
		}
	}
	d.OrderingKey = hdr.Get("Chr2-Ordering-Key")
	if !json.Valid(body) {
		return d, errors.New("receiver: body is not JSON")
	}
	d.Payload = json.RawMessage(body)
	return d, nil
}

// accept runs fencing, dedupe, processing and recording under the mutex.
func (h *Handler) accept(d Delivery, hasToken bool) (int, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hasToken && d.FencingToken < h.highest {
		h.stats.Fenced++
		return http.StatusConflict, "fencing token " + strconv.FormatUint(d.FencingToken, 10) +
			" is below " + strconv.FormatUint(h.highest, 10)
	}
	raised := hasToken && d.FencingToken > h.highest
	if raised {
		h.highest = d.FencingToken
		h.stats.HighestToken = d.FencingToken
	}
	// rememberFence persists a raised mark when no delivery line will carry
	// it; best effort, the mark is also in memory.
	rememberFence := func() {
		if raised {
			_ = h.appendLedger(Delivery{Type: "fence", FencingToken: d.FencingToken})
		}
	}
	if _, dup := h.seen[d.ID]; dup {
		h.stats.Duplicates++
		rememberFence()
		return http.StatusOK, ""
	}
	if h.cfg.Process != nil {
		if err := h.cfg.Process(d); err != nil {
			rememberFence()
			return http.StatusInternalServerError, "processing failed"
		}
	}
	if err := h.appendLedger(d); err != nil {
		return http.StatusInternalServerError, "ledger write failed"
	}
	h.seen[d.ID] = struct{}{}
	h.received = append(h.received, d)
	h.stats.Accepted++
	return http.StatusOK, ""
}

func (h *Handler) appendLedger(d Delivery) error {
	if h.ledger == nil {
		return nil
	}
	line, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := h.ledger.Write(append(line, '\n')); err != nil {
		return err
	}
	if h.cfg.SyncLedger {
		return h.ledger.Sync()
	}
	return nil
}
