package outbox

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits of a retry schedule: a schedule is operator input and bad input is
// a clear error, never a surprise.
const (
	maxScheduleEntries = 64
	maxScheduleDelay   = 30 * 24 * time.Hour
	maxMaxAttempts     = 1000
)

// Defaults of a RetryPolicy.
const (
	DefaultMaxAttempts    = 8
	DefaultJitterFraction = 0.2
	DefaultMaxRetryAfter  = 6 * time.Hour
)

// DefaultSchedule is the Standard Webhooks schedule: the delays before
// attempts 2..8 (the first attempt is immediate).
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// RetryPolicy decides when a failed attempt is retried and when an effect is
// dead. Build it with NewRetryPolicy or DefaultRetryPolicy.
type RetryPolicy struct {
	MaxAttempts    int             // attempts before dead, ≥ 1
	Schedule       []time.Duration // delay before attempt i+2; the last repeats
	JitterFraction float64         // delays vary uniformly within ±fraction
	MaxRetryAfter  time.Duration   // cap on an honoured Retry-After
}

// DefaultRetryPolicy is the policy of a sink with default settings.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:    DefaultMaxAttempts,
		Schedule:       DefaultSchedule,
		JitterFraction: DefaultJitterFraction,
		MaxRetryAfter:  DefaultMaxRetryAfter,
	}
}

// NewRetryPolicy builds the policy of a sink from its max_attempts and
// retry_schedule columns ("" = DefaultSchedule).
func NewRetryPolicy(maxAttempts int, schedule string) (RetryPolicy, error) {
	p := DefaultRetryPolicy()
	if maxAttempts < 1 || maxAttempts > maxMaxAttempts {
		return p, fmt.Errorf("%w: max_attempts %d not in [1, %d]", ErrBadSink, maxAttempts, maxMaxAttempts)
	}
	p.MaxAttempts = maxAttempts
	if strings.TrimSpace(schedule) != "" {
		s, err := ParseSchedule(schedule)
		if err != nil {
			return p, err
		}
		p.Schedule = s
	}
	return p, nil
}

// ParseSchedule parses a comma-separated list of delays such as
// "5s, 5m, 30m, 2h, 1d". Units: ms, s, m, h, d, and the combinations Go's
// time.ParseDuration accepts ("1h30m"). Each delay is ≥ 0 and ≤ 30 days;
// at most 64 entries.
func ParseSchedule(s string) ([]time.Duration, error) {
	parts := strings.Split(s, ",")
	if len(parts) > maxScheduleEntries {
		return nil, fmt.Errorf("%w: %d entries, at most %d", ErrBadSchedule, len(parts), maxScheduleEntries)
	}
	out := make([]time.Duration, 0, len(parts))
	for i, raw := range parts {
		p := strings.TrimSpace(raw)
		if p == "" {
			return nil, fmt.Errorf("%w: entry %d is empty", ErrBadSchedule, i+1)
		}
		d, err := parseDelay(p)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d %q: %v", ErrBadSchedule, i+1, clip(p, 32), err)
		}
		out = append(out, d)
	}
	return out, nil
}

// parseDelay is time.ParseDuration plus a whole-number "d" (days) suffix.
func parseDelay(p string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(p, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("days must be a whole number")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(p); err != nil {
			return 0, fmt.Errorf("not a duration (use e.g. 30s, 5m, 2h, 1d)")
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("negative delay")
	}
	if d > maxScheduleDelay {
		return 0, fmt.Errorf("longer than %s", maxScheduleDelay)
	}
	return d, nil
}

// BaseDelay is the un-jittered schedule delay after failed attempt n (≥ 1).
func (p RetryPolicy) BaseDelay(n int) time.Duration {
	if len(p.Schedule) == 0 {
		return 0
	}
	i := min(max(n-1, 0), len(p.Schedule)-1)
	return p.Schedule[i]
}

// Delay is the wait after failed attempt n: the schedule delay jittered by
// u ∈ [0, 1) within ±JitterFraction, raised to the capped Retry-After.
func (p RetryPolicy) Delay(n int, retryAfter time.Duration, u float64) time.Duration {
	base := p.BaseDelay(n)
	frac := min(max(p.JitterFraction, 0), 1)
	u = min(max(u, 0), 1)
	factor := 1 + frac*(2*u-1)
	d := time.Duration(math.Round(float64(base) * factor))
	if retryAfter > 0 {
		d = max(d, min(retryAfter, p.MaxRetryAfter))
	}
	return max(d, 0)
}

// ParseRetryAfter interprets a Retry-After header value at now: either
// delta-seconds or an HTTP date. It reports false for an absent or malformed
// value; a date in the past is a zero delay.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return time.Duration(math.MaxInt64), true // absurdly large: the cap applies
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// clip shortens operator input quoted in an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n) + "…"
}
