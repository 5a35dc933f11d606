package catalog

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

func relService(name, url string) config.Service {
	return config.Service{Name: name, Team: "payments",
		Upstream: &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: url}}},
		Routes:   []config.Route{{Path: "/" + name}}}
}

func TestDefinitionAppliesDefaults(t *testing.T) {
	bare := relService("orders", "http://10.0.0.1:80")
	withDefaults := config.Config{Services: []config.Service{relService("orders", "http://10.0.0.1:80")}}
	withDefaults.ApplyDefaults()
	a, err := Definition(bare)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Definition(withDefaults.Services[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("a service with and without its defaults has two definitions:\n%s\n%s", a, b)
	}
	if bare.Kind != "" || bare.Upstream.Balance != "" {
		t.Fatal("Definition changed the service it was given")
	}
	back, err := DecodeDefinition(a)
	if err != nil || back.Kind != config.KindREST || back.Upstream.Balance != config.BalanceRoundRobin {
		t.Fatalf("decoded definition %+v, %v", back, err)
	}
}

func TestPending(t *testing.T) {
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	cfg := &config.Config{Services: []config.Service{relService("orders", "http://10.0.0.1:80"), relService("search", "http://10.0.0.2:80")}}
	first, err := Pending(cfg, nil, 7, "alice", "first", at)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].Service != "orders" || !first[0].Published || first[0].Revision != 7 ||
		first[0].State != config.StatePublished || first[0].Team != "payments" || !reflect.DeepEqual(first[0].Diff, []string{"+ service orders"}) {
		t.Fatalf("first releases %+v", first)
	}
	latest := map[string]Release{}
	for i, r := range first {
		r.Number = i + 1
		latest[r.Service] = r
	}
	tests := []struct {
		name   string
		change func(c *config.Config)
		want   map[string][]string // service → diff of its release
	}{
		{"nothing changed", func(*config.Config) {}, map[string][]string{}},
		{"defaults written out", func(c *config.Config) { c.ApplyDefaults() }, map[string][]string{}},
		{"one service changed", func(c *config.Config) { c.Services[1].Upstream.Retries = 2 },
			map[string][]string{"search": {"~ service search: upstream.retries: 0 -> 2"}}},
		{"deprecated", func(c *config.Config) { c.Services[0].State = config.StateDeprecated },
			map[string][]string{"orders": {`~ service orders: state: "" -> deprecated`}}},
		{"a service added", func(c *config.Config) { c.Services = append(c.Services, relService("billing", "http://10.0.0.3:80")) },
			map[string][]string{"billing": {"+ service billing"}}},
		{"a service removed", func(c *config.Config) { c.Services = c.Services[:1] }, map[string][]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := &config.Config{Services: []config.Service{relService("orders", "http://10.0.0.1:80"), relService("search", "http://10.0.0.2:80")}}
			tc.change(next)
			rels, err := Pending(next, latest, 8, "bob", "change", at)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, r := range rels {
				got[r.Service] = r.Diff
				if r.Revision != 8 || r.Author != "bob" || r.Message != "change" || !r.CreatedAt.Equal(at) || len(r.Definition) == 0 {
					t.Errorf("release %+v", r)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("releases with diffs %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCanaryRelease(t *testing.T) {
	pub := relService("orders", "http://10.0.0.1:80")
	pub.Canary = &config.ServiceCanary{Release: 2, Percent: 5}
	draft := relService("orders", "http://10.0.0.9:80")
	draft.Canary = &config.ServiceCanary{Release: 1, Percent: 50}
	r, err := CanaryRelease(draft, pub, "alice", "try .9", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Published || r.Revision != 0 || strings.Contains(string(r.Definition), "canary") ||
		!reflect.DeepEqual(r.Diff, []string{"~ service orders: upstream.targets: [{url: http://10.0.0.1:80}] -> [{url: http://10.0.0.9:80}]"}) {
		t.Fatalf("canary release %+v (%s)", r, r.Definition)
	}
}

func TestCanaryDefinition(t *testing.T) {
	sunset := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	pub := relService("orders", "http://10.0.0.1:80")
	pub.Team, pub.Public, pub.Approval, pub.State, pub.Sunset = "payments", true, config.ApprovalManual, config.StateDeprecated, &sunset
	pub.Canary = &config.ServiceCanary{Release: 3, Percent: 10}
	rel := relService("renamed", "http://10.0.0.9:80")
	rel.Team, rel.Canary = "elsewhere", &config.ServiceCanary{Release: 1, Percent: 1}
	got := CanaryDefinition(rel, pub)
	if got.Name != "orders" || got.Team != "payments" || !got.Public || got.Approval != config.ApprovalManual ||
		got.State != config.StateDeprecated || got.Sunset != &sunset || got.Canary != nil || got.Upstream.Targets[0].URL != "http://10.0.0.9:80" {
		t.Fatalf("canary definition %+v", got)
	}
	cfg := &config.Config{Teams: []config.Team{{Name: "payments"}}, Services: []config.Service{pub, relService("other", "http://10.0.0.2:80")}}
	if err := CheckCanary(cfg, got); err != nil {
		t.Fatalf("a fitting canary: %v", err)
	}
	clash := got
	clash.Routes = []config.Route{{Path: "/other"}}
	if err := CheckCanary(cfg, clash); err == nil || !strings.Contains(err.Error(), "route conflicts") {
		t.Fatalf("a canary whose route another service took: %v", err)
	}
}

func TestDeprecatedSince(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rel := func(n int, state string, published bool) Release {
		return Release{Number: n, State: state, Published: published, CreatedAt: t0.Add(time.Duration(n) * time.Hour)}
	}
	tests := []struct {
		name    string
		history []Release // newest first
		want    int       // the release whose time is the answer; 0: not deprecated
	}{
		{"never deprecated", []Release{rel(2, "published", true), rel(1, "published", true)}, 0},
		{"deprecated by the newest", []Release{rel(3, "deprecated", true), rel(2, "published", true)}, 3},
		{"kept deprecated over changes", []Release{rel(4, "deprecated", true), rel(3, "deprecated", true), rel(2, "published", true)}, 3},
		{"a canary release in between", []Release{rel(5, "deprecated", true), rel(4, "published", false), rel(3, "deprecated", true), rel(1, "published", true)}, 3},
		{"deprecated again after an undo", []Release{rel(5, "deprecated", true), rel(4, "published", true), rel(3, "deprecated", true)}, 5},
		{"deprecated from the first", []Release{rel(2, "deprecated", true), rel(1, "deprecated", true)}, 1},
		{"retired", []Release{rel(3, "retired", true), rel(2, "deprecated", true)}, 0},
		{"no history", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			since, ok := DeprecatedSince(tc.history)
			if ok != (tc.want != 0) || ok && !since.Equal(t0.Add(time.Duration(tc.want)*time.Hour)) {
				t.Fatalf("DeprecatedSince = %v, %v; want release %d's time", since, ok, tc.want)
			}
		})
	}
}

func TestLifecycleChanges(t *testing.T) {
	s := relService("orders", "http://10.0.0.1:80")
	s.Canary = &config.ServiceCanary{Release: 2, Percent: 10}
	sunset := time.Date(2027, 1, 31, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	d := Deprecate(s, &sunset)
	if d.State != config.StateDeprecated || d.Sunset == nil || !d.Sunset.Equal(sunset) || d.Sunset.Location() != time.UTC || d.Canary == nil {
		t.Fatalf("deprecated %+v", d)
	}
	if Deprecate(d, nil).Sunset != nil {
		t.Fatal("deprecating without a sunset kept the old one")
	}
	r := Retire(d)
	if r.State != config.StateRetired || r.Canary != nil || r.Sunset == nil {
		t.Fatalf("retired %+v", r)
	}
	cfg := &config.Config{Teams: []config.Team{{Name: "payments"}}, Services: []config.Service{r}}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a retired service does not validate: %v", err)
	}
}

func TestWithService(t *testing.T) {
	cfg := &config.Config{Services: []config.Service{relService("a", "http://10.0.0.1:80"), relService("b", "http://10.0.0.2:80")}}
	changed, err := WithService(cfg, relService("a", "http://10.0.0.9:80"))
	if err != nil {
		t.Fatal(err)
	}
	if changed.Services[0].Upstream.Targets[0].URL != "http://10.0.0.9:80" || cfg.Services[0].Upstream.Targets[0].URL != "http://10.0.0.1:80" {
		t.Fatal("WithService did not replace in place on a copy")
	}
	added, _ := WithService(cfg, relService("c", "http://10.0.0.3:80"))
	without, _ := WithoutService(added, "a")
	var names []string
	for _, s := range without.Services {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "b,c" || len(cfg.Services) != 2 {
		t.Fatalf("services %v", names)
	}
}
