package app_test

import (
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/provider/openai/openaifake"
	"github.com/hypergate/hypergate/internal/webhook"
)

// The example the README's alerting walkthrough runs, and the addresses it
// expects the mock upstream and the receiver at. The file cannot read an
// address from the environment, so the test swaps these two for its own
// servers and leaves every other byte as written.
const (
	exampleDir          = "../../examples/alerting"
	exampleUpstreamURL  = "http://127.0.0.1:9100/v1"
	exampleReceiverURL  = "http://127.0.0.1:9200/hook"
	exampleKey          = "hg-demo-0123456789abcdef0123456789"
	exampleHookSecret   = "demo-hook-secret-0123456789"
	exampleAlertTick    = 200 * time.Millisecond // HYPERGATE_ALERT_INTERVAL here; the README says 5s
	exampleNotifySlack  = 2 * time.Second        // record flush, webhook delivery, a loaded machine
	exampleNotifyWaitUp = 30 * time.Second
)

// killableUpstream is the example's mock upstream as the walkthrough uses
// it: a server that can be stopped, so that the gateway's calls are
// refused, and started again on the same address.
type killableUpstream struct {
	t    *testing.T
	h    http.Handler
	addr string
	srv  *http.Server
}

func newKillableUpstream(t *testing.T) *killableUpstream {
	fake := openaifake.New(openaifake.Options{})
	t.Cleanup(fake.Close)
	u := &killableUpstream{t: t, h: fake.Config.Handler, addr: "127.0.0.1:0"}
	u.start()
	t.Cleanup(u.kill)
	return u
}

func (u *killableUpstream) start() {
	u.t.Helper()
	ln, err := net.Listen("tcp", u.addr)
	if err != nil {
		u.t.Fatalf("restarting the upstream on %s: %v", u.addr, err)
	}
	u.addr = ln.Addr().String()
	u.srv = &http.Server{Handler: u.h}
	go func() { _ = u.srv.Serve(ln) }()
}

// kill closes the listener and every connection, as ^C on the mock does.
func (u *killableUpstream) kill() {
	if u.srv != nil {
		_ = u.srv.Close()
		u.srv = nil
	}
}

// heard is a notification with when it arrived.
type heard struct {
	at time.Time
	n  alert.Notification
}

// TestAlertingExample runs the README's alerting walkthrough on
// examples/alerting/hypergate.yaml as written: traffic through the
// gateway, the upstream killed, a signed firing notification within one
// evaluation interval after `for`, the upstream back, a resolved one after
// keep_firing_for; and /metrics where examples/alerting/prometheus.yml
// scrapes it, without a token.
func TestAlertingExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(exampleDir, "hypergate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{exampleUpstreamURL, exampleReceiverURL} {
		if n := strings.Count(string(raw), addr); n != 1 {
			t.Fatalf("the example names %s %d times, want once (the README and this test rely on it)", addr, n)
		}
	}
	t.Setenv("DEMO_KEY", exampleKey)
	t.Setenv("HOOK_SECRET", exampleHookSecret)
	cfg, err := config.Parse(raw)
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	if len(cfg.Alerts) != 1 || cfg.Alerts[0].Metric != "error_rate" || cfg.Alerts[0].Threshold.Critical == nil {
		t.Fatalf("the example should hold one error_rate rule with a critical threshold: %+v", cfg.Alerts)
	}
	rule := cfg.Alerts[0]
	forDur, keep, threshold := rule.For.Std(), rule.KeepFiringFor.Std(), *rule.Threshold.Critical

	var (
		mu  sync.Mutex
		got []heard
		bad []string
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if !webhook.Verify([]byte(exampleHookSecret), r.Header.Get(webhook.TimestampHeader), body, r.Header.Get(webhook.SignatureHeader)) {
			bad = append(bad, "a notification with a bad signature")
		}
		var n alert.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			bad = append(bad, err.Error())
		}
		got = append(got, heard{time.Now(), n})
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	wait := func(n int) []heard {
		deadline := time.Now().Add(exampleNotifyWaitUp)
		for {
			mu.Lock()
			out := append([]heard(nil), got...)
			mu.Unlock()
			if len(out) >= n || time.Now().After(deadline) {
				return out
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	up := newKillableUpstream(t)
	file := strings.Replace(string(raw), exampleUpstreamURL, "http://"+up.addr+"/v1", 1)
	file = strings.Replace(file, exampleReceiverURL, receiver.URL+"/hook", 1)
	path := filepath.Join(t.TempDir(), "hypergate.yaml")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(s *app.Settings) { s.ConfigFile, s.AlertInterval = path, exampleAlertTick })

	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"ping"}]}`
	send := func(n, want int) {
		t.Helper()
		for range n {
			resp, b := e.do("POST", "/v1/chat/completions", exampleKey, chat)
			if (want == 200) != (resp.StatusCode == 200) || (want != 200 && resp.StatusCode < 500) {
				t.Fatalf("answered %d, want %d: %s", resp.StatusCode, want, b)
			}
		}
	}
	// Traffic while all is well, then the upstream dies: as many failures as
	// calls before, which crosses any threshold under one half.
	baseline := max(rule.MinRequests, 10)
	send(baseline, 200)
	up.kill()
	broken := time.Now()
	send(baseline, 502)
	crossed := time.Now()

	out := wait(1)
	if len(out) != 1 {
		t.Fatalf("no notification %s after the upstream died", exampleNotifyWaitUp)
	}
	fired := out[0]
	if n := fired.n; n.Status != alert.StatusFiring || n.Rule != rule.Name || len(n.Alerts) != 1 ||
		n.Alerts[0].Labels["model"] != "gpt-4o-mini" || n.Alerts[0].Severity != alert.SeverityCritical ||
		!strings.Contains(n.Alerts[0].CallsURL, "model=gpt-4o-mini") {
		t.Fatalf("first notification %+v, want %s firing for model gpt-4o-mini, critical, with its calls", n, rule.Name)
	}
	// The README's promise: notified within one evaluation interval after
	// `for`, counted from the first evaluation that saw the threshold
	// crossed (the notice's since), and from the failures end to end.
	since := fired.n.Alerts[0].Since
	t.Logf("firing: %s after the first failure, %s after the error rate crossed, evaluated %s after it first held",
		fired.at.Sub(broken).Round(time.Millisecond), fired.at.Sub(crossed).Round(time.Millisecond), fired.n.Time.Sub(since))
	if d := fired.n.Time.Sub(since); d < forDur || d > forDur+exampleAlertTick+exampleNotifySlack/4 {
		t.Errorf("fired %s after the condition first held, want between for (%s) and for + one interval (%s)", d, forDur, forDur+exampleAlertTick)
	}
	if d := fired.at.Sub(broken); d < forDur {
		t.Errorf("notified %s after the upstream died, sooner than for (%s)", d, forDur)
	}
	if d := fired.at.Sub(crossed); d > forDur+exampleAlertTick+exampleNotifySlack {
		t.Errorf("notified %s after the error rate crossed, want at most for + one interval (%s) + %s", d, forDur+exampleAlertTick, exampleNotifySlack)
	}

	// The upstream comes back; enough successes bring the window's error
	// rate under the threshold (in the walkthrough, the failures leave the
	// window instead).
	up.start()
	healed := time.Now()
	send(int(math.Ceil(float64(baseline)/threshold*1.2))-2*baseline, 200)
	cleared := time.Now()

	out = wait(2)
	if len(out) != 2 {
		t.Fatalf("no resolved notification %s after the upstream returned", exampleNotifyWaitUp)
	}
	resolved := out[1]
	if n := resolved.n; n.Status != alert.StatusResolved || n.Rule != rule.Name || len(n.Alerts) != 1 || n.Alerts[0].Labels["model"] != "gpt-4o-mini" {
		t.Fatalf("second notification %+v, want %s resolved for model gpt-4o-mini", n, rule.Name)
	}
	t.Logf("resolved: %s after the upstream returned, %s after the error rate cleared",
		resolved.at.Sub(healed).Round(time.Millisecond), resolved.at.Sub(cleared).Round(time.Millisecond))
	if d := resolved.at.Sub(healed); d < keep-exampleAlertTick {
		t.Errorf("resolved %s after the upstream returned, sooner than keep_firing_for (%s)", d, keep)
	}
	if d := resolved.at.Sub(cleared); d > keep+exampleAlertTick+exampleNotifySlack {
		t.Errorf("resolved %s after the error rate cleared, want at most keep_firing_for + one interval (%s) + %s", d, keep+exampleAlertTick, exampleNotifySlack)
	}
	time.Sleep(3 * exampleAlertTick) // a few more evaluations: nothing more to say
	if n := len(wait(0)); n != 2 {
		t.Errorf("%d notifications, want 2 (firing, resolved)", n)
	}
	mu.Lock()
	if len(bad) > 0 {
		t.Errorf("receiver: %v", bad)
	}
	mu.Unlock()

	// Prometheus scrapes the admin port at the path prometheus.yml names,
	// with no credentials, and finds what the dashboard charts.
	_, metricsPath := examplePrometheusTarget(t)
	resp, err := http.Get(e.admin + metricsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s without a token: %d", metricsPath, resp.StatusCode)
	}
	for _, want := range []string{`hypergate_requests_total{gen_ai_request_model="gpt-4o-mini",http_response_status_code="502"}`,
		`hypergate_alert_notifications_total{outcome="delivered"} 2`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestAlertingExamplePrometheusConfig checks that
// examples/alerting/prometheus.yml is a Prometheus configuration that
// scrapes the port the admin API listens on by default.
func TestAlertingExamplePrometheusConfig(t *testing.T) {
	target, path := examplePrometheusTarget(t)
	t.Setenv("HYPERGATE_ADMIN_LISTEN", "")
	var s app.Settings
	if err := s.FromEnv(); err != nil {
		t.Fatal(err)
	}
	if target != s.AdminListen {
		t.Errorf("prometheus.yml scrapes %s, the admin port (where /metrics is) defaults to %s", target, s.AdminListen)
	}
	if path != "/metrics" {
		t.Errorf("prometheus.yml scrapes %s, the gateway serves /metrics", path)
	}
}

// examplePrometheusTarget reads the hypergate job of
// examples/alerting/prometheus.yml and returns its one target and path.
func examplePrometheusTarget(t *testing.T) (target, path string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(exampleDir, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Only the fields the walkthrough relies on; KnownFields would reject
	// the rest of a valid configuration, so check the shape by hand.
	var prom struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			Scheme        string `yaml:"scheme"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &prom); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	if _, err := time.ParseDuration(prom.Global.ScrapeInterval); err != nil {
		t.Errorf("prometheus.yml: scrape_interval: %v", err)
	}
	for _, sc := range prom.ScrapeConfigs {
		if sc.JobName != "hypergate" {
			continue
		}
		if sc.Scheme != "" && sc.Scheme != "http" {
			t.Errorf("prometheus.yml: scheme %q, the admin port speaks http", sc.Scheme)
		}
		if len(sc.StaticConfigs) != 1 || len(sc.StaticConfigs[0].Targets) != 1 {
			t.Fatalf("prometheus.yml: want one target in the hypergate job, got %+v", sc.StaticConfigs)
		}
		path = sc.MetricsPath
		if path == "" {
			path = "/metrics" // Prometheus's default
		}
		return sc.StaticConfigs[0].Targets[0], path
	}
	t.Fatal("prometheus.yml: no scrape config with job_name hypergate")
	return "", ""
}
