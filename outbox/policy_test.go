package outbox

import (
	"bufio"
	"errors"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseScheduleScenarios(t *testing.T) {
	f, err := os.Open("testdata/schedules.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") || strings.TrimSpace(text) == "" {
			continue
		}
		in, want, ok := strings.Cut(text, " => ")
		if !ok {
			t.Fatalf("schedules.txt:%d: no ' => '", line)
		}
		n++
		got, err := ParseSchedule(in)
		if msg, isErr := strings.CutPrefix(want, "error: "); isErr {
			if !errors.Is(err, ErrBadSchedule) || !strings.Contains(err.Error(), msg) {
				t.Errorf("schedules.txt:%d: ParseSchedule(%q) = %v, %v; want error containing %q", line, in, got, err, msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("schedules.txt:%d: ParseSchedule(%q): %v", line, in, err)
			continue
		}
		parts := make([]string, len(got))
		for i, d := range got {
			parts[i] = d.String()
		}
		if s := strings.Join(parts, ","); s != want {
			t.Errorf("schedules.txt:%d: ParseSchedule(%q) = %s, want %s", line, in, s, want)
		}
	}
	if n < 10 {
		t.Fatalf("only %d scenarios read", n)
	}
}

func TestParseScheduleLimits(t *testing.T) {
	if _, err := ParseSchedule(strings.Repeat("1s,", maxScheduleEntries) + "1s"); !errors.Is(err, ErrBadSchedule) {
		t.Fatalf("%d entries accepted: %v", maxScheduleEntries+1, err)
	}
	if _, err := ParseSchedule(""); !errors.Is(err, ErrBadSchedule) {
		t.Fatalf("empty schedule accepted by ParseSchedule: %v", err)
	}
	long := strings.Repeat("x", 1000)
	if _, err := ParseSchedule(long); err == nil || len(err.Error()) > 200 {
		t.Fatalf("error for a long bad entry should quote it clipped: %v", err)
	}
}

func TestNewRetryPolicy(t *testing.T) {
	p, err := NewRetryPolicy(8, "")
	if err != nil || p.MaxAttempts != 8 || len(p.Schedule) != 7 || p.Schedule[0] != 5*time.Second || p.Schedule[6] != 10*time.Hour {
		t.Fatalf("default policy = %+v, %v", p, err)
	}
	p, err = NewRetryPolicy(5, " 1s,2s ")
	if err != nil || p.MaxAttempts != 5 || len(p.Schedule) != 2 {
		t.Fatalf("custom policy = %+v, %v", p, err)
	}
	for _, n := range []int{0, -1, maxMaxAttempts + 1} {
		if _, err := NewRetryPolicy(n, ""); !errors.Is(err, ErrBadSink) {
			t.Errorf("max_attempts %d accepted: %v", n, err)
		}
	}
	if _, err := NewRetryPolicy(3, "soon"); !errors.Is(err, ErrBadSchedule) {
		t.Errorf("bad schedule accepted: %v", err)
	}
}

func TestStandardScheduleIsEightAttempts(t *testing.T) {
	p := DefaultRetryPolicy()
	p.JitterFraction = 0
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
		5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	for n := 1; n <= 7; n++ {
		if got := p.Delay(n, 0, 0.5); got != want[n-1] {
			t.Errorf("delay after attempt %d = %v, want %v", n, got, want[n-1])
		}
	}
	if got := p.Delay(20, 0, 0.5); got != 10*time.Hour {
		t.Errorf("beyond the schedule the last delay repeats; got %v", got)
	}
	e := Effect{ID: "e", Status: StatusInFlight, Attempts: 8, FencingToken: 1}
	tr, _ := Fail(e, Failure{Attempt: 8, Term: 1}, p, t0)
	if tr.To != StatusDead {
		t.Fatalf("8th failure → %s, want dead", tr.To)
	}
	e.Attempts = 7
	tr, _ = Fail(e, Failure{Attempt: 7, Term: 1}, p, t0)
	if tr.To != StatusRetry {
		t.Fatalf("7th failure → %s, want retry", tr.To)
	}
}

func TestJitterBounds(t *testing.T) {
	for _, frac := range []float64{0, 0.1, 0.2} {
		p := RetryPolicy{MaxAttempts: 8, Schedule: []time.Duration{time.Minute}, JitterFraction: frac}
		lo := time.Duration(float64(time.Minute) * (1 - frac))
		hi := time.Duration(float64(time.Minute) * (1 + frac))
		minSeen, maxSeen := time.Duration(math.MaxInt64), time.Duration(0)
		for i := 0; i <= 1000; i++ {
			u := float64(i) / 1001
			d := p.Delay(1, 0, u)
			if d < lo || d > hi {
				t.Fatalf("frac %v u %v: delay %v outside [%v, %v]", frac, u, d, lo, hi)
			}
			minSeen, maxSeen = min(minSeen, d), max(maxSeen, d)
		}
		// The whole band is used, not just its middle.
		if spread := hi - lo; spread > 0 && (minSeen-lo > spread/50 || hi-maxSeen > spread/50) {
			t.Fatalf("frac %v: delays span [%v, %v], want close to [%v, %v]", frac, minSeen, maxSeen, lo, hi)
		}
	}
	p := RetryPolicy{Schedule: []time.Duration{time.Minute}, JitterFraction: 0.2}
	if d := p.Delay(1, 0, 7); d != 72*time.Second {
		t.Fatalf("out-of-range sample not clamped: %v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 7 ", 7 * time.Second, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Sun, 06 Nov 1994 08:49:37 GMT", 0, true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", 0, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999999", time.Duration(math.MaxInt64), true},
	}
	for _, c := range cases {
		got, ok := ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	p := DefaultRetryPolicy()
	if d := p.Delay(1, time.Duration(math.MaxInt64), 0.5); d != DefaultMaxRetryAfter {
		t.Fatalf("huge Retry-After not capped: %v", d)
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"5s,5m,30m", "1d", "", ",", "-1s", "1h30m", "30d", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := ParseSchedule(s)
		if err != nil {
			if !errors.Is(err, ErrBadSchedule) {
				t.Fatalf("error %v does not wrap ErrBadSchedule", err)
			}
			return
		}
		if len(ds) == 0 || len(ds) > maxScheduleEntries {
			t.Fatalf("accepted %d entries", len(ds))
		}
		for _, d := range ds {
			if d < 0 || d > maxScheduleDelay {
				t.Fatalf("accepted delay %v", d)
			}
		}
		p := RetryPolicy{MaxAttempts: 3, Schedule: ds, JitterFraction: 0.2, MaxRetryAfter: time.Hour}
		for n := 1; n < len(ds)+2; n++ {
			if d := p.Delay(n, 0, 0.999); d < 0 || d > maxScheduleDelay*2 {
				t.Fatalf("delay %v out of range", d)
			}
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Sun, 06 Nov 1994 08:49:37 GMT", "", "-1", "1e9", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}
