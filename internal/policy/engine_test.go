package policy

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hypergate/hypergate/internal/config"
)

// clock is a fake clock the tests move by hand: no test sleeps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(start time.Time) *clock { return &clock{t: start} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var shop = Subject{Kind: KindConsumer, Name: "web-shop"}

// step is one thing a scenario does: wait, admit a call, or charge one.
type step struct {
	wait   time.Duration
	admit  int // calls admitted in a row, each expected to get want
	ip     string
	body   int64
	tokens int64
	usd    float64
	// want is "" for admitted, else the refusal code.
	want string
	// status, retry and msg are checked on a refusal when set.
	status int
	retry  int64
	msg    string
	// warning is a substring of the budget warning expected on an admitted
	// call; "-" expects none.
	warning string
	// remaining is the X-RateLimit-Remaining expected on an admitted call
	// (-1: not checked).
	remaining float64
}

func admits(n int) step { return step{admit: n, remaining: -1} }
func refused(code string, retry int64, msg string) step {
	return step{admit: 1, want: code, retry: retry, msg: msg, remaining: -1}
}
func wait(d time.Duration) step             { return step{wait: d} }
func charge(tokens int64, usd float64) step { return step{tokens: tokens, usd: usd} }

func TestPolicies(t *testing.T) {
	start := at("2026-03-14T09:00:00Z")
	cases := []struct {
		name  string
		start time.Time
		p     config.Policies
		steps []step
	}{
		{
			name: "requests per second",
			p:    config.Policies{RateLimit: &config.RateLimit{RequestsPerSecond: 3}},
			steps: []step{
				{admit: 1, remaining: 2}, {admit: 1, remaining: 1}, {admit: 1, remaining: 0},
				refused(CodeRateLimited, 1, "consumer web-shop: 3 requests per second exceeded; retry in 1s"),
				// 1.5 s on, the previous second still weighs half: 1 used.
				wait(1500 * time.Millisecond), admits(2), refused(CodeRateLimited, 1, ""),
				wait(2 * time.Second), admits(3), refused(CodeRateLimited, 1, ""),
			},
		},
		{
			name: "requests per minute",
			p:    config.Policies{RateLimit: &config.RateLimit{RequestsPerMinute: 100}},
			steps: []step{
				wait(48 * time.Second), admits(100),
				refused(CodeRateLimited, 12, "consumer web-shop: 100 requests per minute exceeded; retry in 12s"),
				// On the boundary the last minute weighs in full; a moment on,
				// one request's worth of it has gone.
				wait(12 * time.Second), refused(CodeRateLimited, 1, ""),
				wait(time.Millisecond), admits(1), refused(CodeRateLimited, 1, ""),
			},
		},
		{
			name: "fractional rate",
			p:    config.Policies{RateLimit: &config.RateLimit{RequestsPerSecond: 0.5}},
			steps: []step{
				admits(1), refused(CodeRateLimited, 2, "0.5 requests per second exceeded; retry in 2s"),
				wait(2 * time.Second), refused(CodeRateLimited, 1, ""),
				wait(time.Millisecond), admits(1), refused(CodeRateLimited, 2, ""),
			},
		},
		{
			name: "tokens per minute",
			p:    config.Policies{RateLimit: &config.RateLimit{TokensPerMinute: 1000}},
			steps: []step{
				admits(1), charge(600, 0), admits(2), charge(400, 0), charge(17, 0),
				refused(CodeRateLimited, 62, "consumer web-shop: 1000 tokens per minute used up; retry in 1m2s"),
				// A minute on, the previous minute's 1017 weigh in full.
				wait(time.Minute), refused(CodeRateLimited, 2, ""),
				wait(2 * time.Second), admits(1),
			},
		},
		{
			name: "requests per day resets at midnight UTC",
			p:    config.Policies{Quota: &config.Quota{RequestsPerDay: 2}},
			steps: []step{
				{admit: 1, remaining: 1}, {admit: 1, remaining: 0},
				refused(CodeQuota, 15*3600, "consumer web-shop: quota of 2 requests per day (UTC) used up; it resets in 15h"),
				{wait: 15 * time.Hour}, admits(2), refused(CodeQuota, 24*3600, ""),
			},
		},
		{
			name:  "tokens per month",
			start: at("2026-02-27T12:00:00Z"),
			p:     config.Policies{Quota: &config.Quota{TokensPerMonth: 5000}},
			steps: []step{
				admits(1), charge(4999, 0), admits(1), charge(10, 0),
				refused(CodeQuota, 36*3600, "quota of 5000 tokens per month (UTC) used up; it resets in 36h"),
				wait(36 * time.Hour), admits(1),
			},
		},
		{
			name: "daily budget warns then stops",
			p:    config.Policies{Budget: &config.Budget{USDPerDay: 1, WarnAt: 0.8}},
			steps: []step{
				{admit: 1, warning: "-", remaining: -1}, charge(100, 0.5),
				{admit: 1, warning: "-", remaining: -1}, charge(100, 0.3),
				{admit: 1, warning: "consumer web-shop: 80% of the daily budget of 1.00 USD spent", remaining: -1}, charge(100, 0.25),
				refused(CodeBudget, 15*3600, "consumer web-shop: daily budget of 1.00 USD spent; it resets in 15h"),
				wait(15 * time.Hour), {admit: 1, warning: "-", remaining: -1},
			},
		},
		{
			name: "monthly budget",
			p:    config.Policies{Budget: &config.Budget{USDPerMonth: 10, WarnAt: 0.5}},
			steps: []step{
				admits(1), charge(0, 9.99), {admit: 1, warning: "99% of the monthly budget of 10.00 USD spent", remaining: -1},
				charge(0, 0.01), refused(CodeBudget, (17*24+15)*3600, "monthly budget of 10.00 USD spent"),
			},
		},
		{
			name: "deny wins over allow",
			p:    config.Policies{IP: &config.IPRules{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.1.0.0/16"}}},
			steps: []step{
				{admit: 1, ip: "10.2.3.4", remaining: -1},
				{admit: 1, ip: "::ffff:10.2.3.4", remaining: -1},
				{admit: 1, ip: "10.1.2.3", want: CodeIPDenied, status: 403, msg: "consumer web-shop: client address 10.1.2.3 is not allowed", remaining: -1},
				{admit: 1, ip: "192.0.2.1", want: CodeIPDenied, status: 403, remaining: -1},
				{admit: 1, ip: "2001:db8::1", want: CodeIPDenied, status: 403, remaining: -1},
				{admit: 1, want: CodeIPDenied, status: 403, msg: "(unknown)", remaining: -1},
			},
		},
		{
			name: "deny only",
			p:    config.Policies{IP: &config.IPRules{Deny: []string{"203.0.113.7", "2001:db8::/32"}}},
			steps: []step{
				{admit: 1, ip: "203.0.113.8", remaining: -1},
				{admit: 1, ip: "203.0.113.7", want: CodeIPDenied, status: 403, remaining: -1},
				{admit: 1, ip: "2001:db8:1::5", want: CodeIPDenied, status: 403, remaining: -1},
				{admit: 1, remaining: -1},
			},
		},
		{
			name: "max body",
			p:    config.Policies{MaxBodyBytes: 1024},
			steps: []step{
				{admit: 1, body: 1024, remaining: -1},
				{admit: 1, body: 1025, want: CodeBodyTooLarge, status: 413, msg: "consumer web-shop: the request body (1025 bytes) is over the limit of 1024 bytes", remaining: -1},
			},
		},
		{
			name: "tightest request limit is reported",
			p:    config.Policies{RateLimit: &config.RateLimit{RequestsPerSecond: 50}, Quota: &config.Quota{RequestsPerDay: 3}},
			steps: []step{
				{admit: 1, remaining: 2}, {admit: 2, remaining: -1}, refused(CodeQuota, 15*3600, ""),
			},
		},
		{
			name: "a refusal takes nothing",
			p:    config.Policies{RateLimit: &config.RateLimit{RequestsPerMinute: 2}, Quota: &config.Quota{RequestsPerDay: 3}},
			steps: []step{
				admits(2), refused(CodeRateLimited, 0, ""), refused(CodeRateLimited, 0, ""),
				// Two refusals later the day's quota still has one left.
				wait(2 * time.Minute), admits(1), wait(2 * time.Minute), refused(CodeQuota, 0, ""),
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s0 := start
			if !tc.start.IsZero() {
				s0 = tc.start
			}
			clk := newClock(s0)
			e := NewEngine(Options{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
			set, err := e.Compile(shop, &tc.p)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				clk.Advance(s.wait)
				if s.tokens > 0 || s.usd > 0 {
					e.Charge(s.tokens, s.usd, set)
				}
				for n := 0; n < s.admit; n++ {
					var ip netip.Addr
					if s.ip != "" {
						ip = netip.MustParseAddr(s.ip)
					}
					d := e.Admit(Request{ClientIP: ip, BodyBytes: s.body}, set)
					checkDecision(t, i, n, s, d)
				}
			}
		})
	}
}

func checkDecision(t *testing.T, i, n int, s step, d Decision) {
	t.Helper()
	if s.want == "" {
		if d.Refused != nil {
			t.Fatalf("step %d call %d: refused (%s), want admitted", i, n, d.Refused.Message)
		}
		if s.remaining >= 0 && d.Limit.Remaining != s.remaining {
			t.Fatalf("step %d call %d: remaining %v, want %v", i, n, d.Limit.Remaining, s.remaining)
		}
		switch w := d.BudgetWarning(); {
		case s.warning == "-" && w != "":
			t.Fatalf("step %d: unexpected budget warning %q", i, w)
		case s.warning != "" && s.warning != "-" && !strings.Contains(w, s.warning):
			t.Fatalf("step %d: budget warning %q, want %q", i, w, s.warning)
		}
		return
	}
	r := d.Refused
	if r == nil {
		t.Fatalf("step %d call %d: admitted, want %s", i, n, s.want)
	}
	if r.Code != s.want {
		t.Fatalf("step %d: code %s (%s), want %s", i, r.Code, r.Message, s.want)
	}
	status := s.status
	if status == 0 {
		status = 429
	}
	if r.Status != status {
		t.Fatalf("step %d: status %d, want %d", i, r.Status, status)
	}
	if s.retry > 0 && r.RetryAfterSeconds() != s.retry {
		t.Fatalf("step %d: retry after %ds (%v), want %ds", i, r.RetryAfterSeconds(), r.RetryAfter, s.retry)
	}
	if s.msg != "" && !strings.Contains(r.Message, s.msg) {
		t.Fatalf("step %d: message %q, want it to contain %q", i, r.Message, s.msg)
	}
	if r.Status == 429 && (r.Allowance.Remaining != 0 || r.Allowance.Limit == 0) {
		t.Fatalf("step %d: allowance %+v on a 429", i, r.Allowance)
	}
}

func TestSeveralSubjects(t *testing.T) {
	clk := newClock(at("2026-03-14T09:00:00Z"))
	e := NewEngine(Options{Now: clk.Now})
	consumer, _ := e.Compile(shop, &config.Policies{Quota: &config.Quota{RequestsPerDay: 10}})
	service, _ := e.Compile(Subject{KindService, "orders-api"}, &config.Policies{RateLimit: &config.RateLimit{RequestsPerSecond: 2}})
	route, _ := e.Compile(Subject{KindRoute, "orders-api/list"}, &config.Policies{IP: &config.IPRules{Deny: []string{"192.0.2.0/24"}}})
	other, _ := e.Compile(Subject{KindConsumer, "other"}, nil)
	if other != nil {
		t.Fatal("no policies should compile to a nil set")
	}
	ok := netip.MustParseAddr("198.51.100.1")
	for range 2 {
		if d := e.Admit(Request{ClientIP: ok}, consumer, service, route, other); d.Refused != nil {
			t.Fatal(d.Refused.Message)
		}
	}
	d := e.Admit(Request{ClientIP: ok}, consumer, service, route)
	if d.Refused == nil || d.Refused.Subject.Kind != KindService || !strings.HasPrefix(d.Refused.Message, "service orders-api: 2 requests per second") {
		t.Fatalf("third call: %+v", d.Refused)
	}
	if d := e.Admit(Request{ClientIP: netip.MustParseAddr("192.0.2.9")}, consumer, service, route); d.Refused == nil || d.Refused.Code != CodeIPDenied ||
		!strings.HasPrefix(d.Refused.Message, "route orders-api/list:") {
		t.Fatalf("denied address: %+v", d.Refused)
	}
	// The service refused twice: the consumer's quota counted only the two
	// calls that went ahead.
	c := e.Counters().Add("consumer:web-shop:requests:day", Day, 0, clk.Now())
	if c.Cur != 2 {
		t.Fatalf("consumer's day count = %d, want 2", c.Cur)
	}
}

func TestCountsSurviveRecompile(t *testing.T) {
	clk := newClock(at("2026-03-14T09:00:00Z"))
	e := NewEngine(Options{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
	p := &config.Policies{RateLimit: &config.RateLimit{RequestsPerMinute: 3}, Budget: &config.Budget{USDPerDay: 1, WarnAt: 0.5}}
	first, _ := e.Compile(shop, p)
	for range 3 {
		e.Admit(Request{}, first)
	}
	e.Charge(10, 0.75, first)
	// A reload compiles a new set for the same subject, with a changed limit.
	p2 := *p
	p2.RateLimit = &config.RateLimit{RequestsPerMinute: 4}
	second, _ := e.Compile(shop, &p2)
	d := e.Admit(Request{}, second)
	if d.Refused != nil || d.Limit.Remaining != 0 {
		t.Fatalf("fourth call under the raised limit: %+v, %+v", d.Refused, d.Limit)
	}
	if !strings.Contains(d.BudgetWarning(), "75%") {
		t.Fatalf("budget spent before the reload is forgotten: %q", d.BudgetWarning())
	}
	if d := e.Admit(Request{}, second); d.Refused == nil {
		t.Fatal("fifth call admitted")
	}
}

func TestBudgetWarningLoggedOncePerPeriod(t *testing.T) {
	clk := newClock(at("2026-03-14T09:00:00Z"))
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e := NewEngine(Options{Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Registerer: reg})
	p := &config.Policies{Budget: &config.Budget{USDPerDay: 1, WarnAt: 0.8}}
	set, _ := e.Compile(shop, p)
	e.Charge(0, 0.85, set)
	e.Charge(0, 0.05, set)
	e.Admit(Request{}, set)
	// A reload must not warn again within the period.
	set, _ = e.Compile(shop, p)
	e.Admit(Request{}, set)
	e.Charge(0, 0.2, set)
	e.Admit(Request{}, set)
	if n := strings.Count(logs.String(), "budget warning level passed"); n != 1 {
		t.Fatalf("%d warnings logged in one day, want 1:\n%s", n, logs.String())
	}
	clk.Advance(24 * time.Hour)
	e.Charge(0, 0.9, set)
	if n := strings.Count(logs.String(), "budget warning level passed"); n != 2 {
		t.Fatalf("%d warnings logged over two days, want 2", n)
	}
	if v := counterValue(e.warnings.WithLabelValues(KindConsumer, "web-shop", "day")); v != 2 {
		t.Fatalf("warnings metric = %v, want 2", v)
	}
	if v := counterValue(e.refusals[CodeBudget]); v != 1 {
		t.Fatalf("budget refusals metric = %v, want 1", v)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func TestSeed(t *testing.T) {
	now := at("2026-03-14T09:00:00Z")
	p := &config.Policies{
		RateLimit: &config.RateLimit{RequestsPerMinute: 100},
		Quota:     &config.Quota{RequestsPerDay: 10, TokensPerMonth: 1000},
		Budget:    &config.Budget{USDPerMonth: 5},
	}
	day := Usage{Requests: 9, Tokens: 300, CostUSD: 1}
	month := Usage{Requests: 50, Tokens: 990, CostUSD: 4.5}
	cases := []struct {
		name  string
		at    time.Time
		fresh func(string) bool
		want  map[string]int64
	}{
		{"all", now, nil, map[string]int64{
			"consumer:web-shop:requests:day": 9, "consumer:web-shop:tokens:month": 990, "consumer:web-shop:usd:month": 4_500_000_000,
		}},
		{"only fresh keys", now, func(k string) bool { return strings.Contains(k, "usd") }, map[string]int64{
			"consumer:web-shop:requests:day": 1, "consumer:web-shop:tokens:month": 0, "consumer:web-shop:usd:month": 4_500_000_000,
		}},
		{"a day that is over", at("2026-03-13T23:59:00Z"), nil, map[string]int64{
			"consumer:web-shop:requests:day": 1, "consumer:web-shop:tokens:month": 990, "consumer:web-shop:usd:month": 4_500_000_000,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEngine(Options{Now: func() time.Time { return now }})
			set, _ := e.Compile(shop, p)
			if got := len(set.Keys()); got != 3 {
				t.Fatalf("Keys() = %v, want the 3 calendar counters", set.Keys())
			}
			e.Admit(Request{}, set) // a call already counted: seeding sets, it does not add
			e.Seed(set, tc.at, day, month, tc.fresh)
			for key, want := range tc.want {
				w := Day
				if strings.HasSuffix(key, "month") {
					w = Month
				}
				if c := e.Counters().Add(key, w, 0, now); c.Cur != want {
					t.Errorf("%s = %d, want %d", key, c.Cur, want)
				}
			}
		})
	}
	t.Run("seeded quota refuses", func(t *testing.T) {
		e := NewEngine(Options{Now: func() time.Time { return now }})
		set, _ := e.Compile(shop, p)
		e.Seed(set, now, Usage{Requests: 10}, Usage{Tokens: 10}, nil)
		if d := e.Admit(Request{}, set); d.Refused == nil || d.Refused.Code != CodeQuota {
			t.Fatalf("after seeding a used-up day: %+v", d.Refused)
		}
	})
}

func TestCompileRejectsBadIP(t *testing.T) {
	e := NewEngine(Options{})
	_, err := e.Compile(shop, &config.Policies{IP: &config.IPRules{Allow: []string{"not-an-ip"}}})
	if err == nil || !strings.Contains(err.Error(), "consumer web-shop: ip.allow") {
		t.Fatalf("err = %v", err)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}
