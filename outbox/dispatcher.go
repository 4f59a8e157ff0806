package outbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Options configure a Dispatcher. Zero values take the defaults noted.
type Options struct {
	Sender     Sender                // nil: NewWebhookSender(nil, nil)
	Logger     *zap.Logger           // nil: zap.NewNop()
	Registerer prometheus.Registerer // nil: metrics are kept but not registered

	ClaimBatch         int           // effects claimed per claim entry; default 256
	MaxApplyBatch      int           // transitions per ack/fail entry; default 512
	MaxInFlight        int           // attempts in flight across all sinks; default 1024
	MaxSinkConcurrency int           // upper clamp of chr2.sinks.concurrency; default 256
	MinAttemptTimeout  time.Duration // lower clamp of chr2.sinks.timeout_ms; default 100ms
	MaxAttemptTimeout  time.Duration // upper clamp of chr2.sinks.timeout_ms; default 5m
	MaxPayloadBytes    int           // larger payloads are dead-lettered unsent; default 1 MiB
	JitterFraction     float64       // retry jitter ±fraction; default 0.2, valid [0, 0.5]
	MaxRetryAfter      time.Duration // cap on an honoured Retry-After; default 6h
	FlushLinger        time.Duration // how long outcomes wait to share an entry; default 2ms
	MaxIdle            time.Duration // longest sleep without a Notify or due time; default 1m
	StatsInterval      time.Duration // backlog gauge refresh; default 2s
	JitterSeed         uint64        // 0: random; set it to replay a test
}

func (o *Options) setDefaults() error {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.ClaimBatch, 256)
	def(&o.MaxApplyBatch, 512)
	def(&o.MaxInFlight, 1024)
	def(&o.MaxSinkConcurrency, 256)
	def(&o.MaxPayloadBytes, 1<<20)
	defDur(&o.MinAttemptTimeout, 100*time.Millisecond)
	defDur(&o.MaxAttemptTimeout, 5*time.Minute)
	defDur(&o.MaxRetryAfter, DefaultMaxRetryAfter)
	defDur(&o.FlushLinger, 2*time.Millisecond)
	defDur(&o.MaxIdle, time.Minute)
	defDur(&o.StatsInterval, 2*time.Second)
	if o.JitterFraction == 0 {
		o.JitterFraction = DefaultJitterFraction
	}
	if o.JitterFraction < 0 || o.JitterFraction > 0.5 {
		return fmt.Errorf("outbox: JitterFraction %v not in [0, 0.5]", o.JitterFraction)
	}
	if o.MinAttemptTimeout > o.MaxAttemptTimeout {
		return fmt.Errorf("outbox: MinAttemptTimeout %s > MaxAttemptTimeout %s", o.MinAttemptTimeout, o.MaxAttemptTimeout)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Sender == nil {
		o.Sender = NewWebhookSender(nil, nil)
	}
	if o.JitterSeed == 0 {
		o.JitterSeed = rand.Uint64() | 1
	}
	return nil
}

// Dispatcher delivers effects while its node leads. One Dispatcher per node;
// Run is called once per term of leadership.
type Dispatcher struct {
	store   Store
	lead    Leadership
	opts    Options
	log     *zap.Logger
	m       *metrics
	rnd     *rand.Rand    // jitter; used only by the running loop
	notify  chan struct{} // capacity 1: a pending wake-up
	running chan struct{} // capacity 1: at most one Run at a time
}

// New returns a dispatcher over store. lead is asked right before each send.
func New(store Store, lead Leadership, opts Options) (*Dispatcher, error) {
	if store == nil || lead == nil {
		return nil, errors.New("outbox: New needs a Store and a Leadership")
	}
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer, store.Now)
	if err != nil {
		return nil, fmt.Errorf("outbox: register metrics: %w", err)
	}
	return &Dispatcher{
		store:   store,
		lead:    lead,
		opts:    opts,
		log:     opts.Logger,
		m:       m,
		rnd:     rand.New(rand.NewPCG(opts.JitterSeed, opts.JitterSeed^0x9e3779b97f4a7c15)),
		notify:  make(chan struct{}, 1),
		running: make(chan struct{}, 1),
	}, nil
}

// Notify wakes the dispatcher: effects or sinks changed. It never blocks and
// is cheap; calls while a wake-up is pending coalesce.
func (d *Dispatcher) Notify() {
	select {
	case d.notify <- struct{}{}:
	default:
	}
}

// Run delivers effects as the leader of term until ctx is cancelled (returns
// nil), a sink fences this term (ErrFenced), leadership is found lost before a
// send (ErrNotLeader), or the Store fails (the error, wrapping ErrNotLeader or
// ErrAmbiguous where the Store said so). A second Run waits for the first.
func (d *Dispatcher) Run(ctx context.Context, term uint64) error {
	if term == 0 {
		return errors.New("outbox: Run needs a term ≥ 1")
	}
	select {
	case d.running <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	defer func() { <-d.running }()
	d.m.dispatching.Set(1)
	defer func() {
		d.m.dispatching.Set(0)
		d.m.setBacklog(0, time.Time{})
	}()
	d.log.Info("outbox dispatcher started", zap.Uint64("term", term))
	err := newRun(ctx, d, term).loop()
	d.log.Info("outbox dispatcher stopped", zap.Uint64("term", term), zap.Error(err))
	return err
}

// compiledSink is a sink whose configuration was checked and parsed once.
type compiledSink struct {
	sink        Sink
	policy      RetryPolicy
	key         []byte
	timeout     time.Duration
	concurrency int
	err         error // non-nil: effects of this sink are not claimed
}

func (d *Dispatcher) compile(s Sink) *compiledSink {
	c := &compiledSink{sink: s}
	p, err := NewRetryPolicy(s.MaxAttempts, s.RetrySchedule)
	if err != nil {
		c.err = err
		return c
	}
	p.JitterFraction, p.MaxRetryAfter = d.opts.JitterFraction, d.opts.MaxRetryAfter
	c.policy = p
	if s.Secret != "" {
		if c.key, err = DecodeSecret(s.Secret); err != nil {
			c.err = err
			return c
		}
	}
	u, err := url.Parse(s.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.err = fmt.Errorf("%w: url is not an absolute http(s) URL", ErrBadSink)
	case s.Concurrency < 1:
		c.err = fmt.Errorf("%w: concurrency %d < 1", ErrBadSink, s.Concurrency)
	case s.Timeout <= 0:
		c.err = fmt.Errorf("%w: timeout_ms must be positive", ErrBadSink)
	}
	c.concurrency = min(s.Concurrency, d.opts.MaxSinkConcurrency)
	c.timeout = min(max(s.Timeout, d.opts.MinAttemptTimeout), d.opts.MaxAttemptTimeout)
	return c
}
