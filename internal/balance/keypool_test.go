package balance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func ids(keys ...Key) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = k.ID
	}
	return strings.Join(s, " ")
}

func TestKeyPool(t *testing.T) {
	type report struct {
		key        int // 1-based, as in the IDs
		status     int
		retryAfter time.Duration
	}
	cases := []struct {
		name    string
		reports []report
		advance time.Duration
		want    string // the IDs of the next four keys handed out
	}{
		{
			name: "round robin",
			want: "p#1 p#2 p#3 p#1",
		},
		{
			name:    "rate limited with retry-after",
			reports: []report{{key: 2, status: 429, retryAfter: 30 * time.Second}},
			want:    "p#1 p#3 p#3 p#1",
		},
		{
			name:    "rate limited comes back after retry-after",
			reports: []report{{key: 2, status: 429, retryAfter: 30 * time.Second}},
			advance: 30 * time.Second,
			want:    "p#1 p#2 p#3 p#1",
		},
		{
			name:    "rate limited without retry-after rests the default",
			reports: []report{{key: 1, status: 429}},
			advance: RateLimitPause - time.Second,
			want:    "p#2 p#2 p#3 p#2",
		},
		{
			name:    "invalid key rests ten minutes",
			reports: []report{{key: 3, status: 401}},
			advance: 9 * time.Minute,
			want:    "p#1 p#2 p#1 p#1",
		},
		{
			name:    "forbidden key comes back after ten minutes",
			reports: []report{{key: 3, status: 403}},
			advance: InvalidKeyPause,
			want:    "p#1 p#2 p#3 p#1",
		},
		{
			name:    "exhausted credit rests an hour",
			reports: []report{{key: 1, status: 402}},
			advance: 59 * time.Minute,
			want:    "p#2 p#2 p#3 p#2",
		},
		{
			name:    "a success brings a key back at once",
			reports: []report{{key: 2, status: 429, retryAfter: time.Hour}, {key: 2, status: 200}},
			want:    "p#1 p#2 p#3 p#1",
		},
		{
			name:    "a server error says nothing about the key",
			reports: []report{{key: 2, status: 500}, {key: 2, status: 400}},
			want:    "p#1 p#2 p#3 p#1",
		},
		{
			name:    "a shorter pause does not cut a longer one",
			reports: []report{{key: 2, status: 401}, {key: 2, status: 429, retryAfter: time.Second}},
			advance: time.Minute,
			want:    "p#1 p#3 p#3 p#1",
		},
		{
			name: "every key aside: the one back soonest",
			reports: []report{
				{key: 1, status: 429, retryAfter: time.Minute},
				{key: 2, status: 429, retryAfter: 5 * time.Second},
				{key: 3, status: 401},
			},
			want: "p#2 p#2 p#2 p#2",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			p := NewKeyPool("p", []string{"sk-1", "sk-2", "sk-3"}, clock.Now)
			for _, r := range tc.reports {
				p.Report(p.keys[r.key-1], r.status, r.retryAfter)
			}
			clock.Advance(tc.advance)
			if got := ids(p.Next(), p.Next(), p.Next(), p.Next()); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestKeyPoolAvailableAndUntil(t *testing.T) {
	clock := newFakeClock()
	p := NewKeyPool("openai-main", []string{"sk-a", "sk-b"}, clock.Now)
	a, b := p.Next(), p.Next()
	if a.ID != "openai-main#1" || b.ID != "openai-main#2" || a.Secret() != "sk-a" {
		t.Fatalf("keys %v %v", a, b)
	}
	p.Report(a, 429, 20*time.Second)
	if got := p.Available(); got != 1 {
		t.Errorf("available %d, want 1", got)
	}
	if got, want := p.SetAsideUntil(a), clock.Now().Add(20*time.Second); !got.Equal(want) {
		t.Errorf("set aside until %v, want %v", got, want)
	}
	if !p.SetAsideUntil(b).IsZero() {
		t.Error("an available key has a set-aside time")
	}
	clock.Advance(20 * time.Second)
	if got := p.Available(); got != 2 {
		t.Errorf("available %d after the pause, want 2", got)
	}
	// A key of another pool, or the empty key, is ignored.
	other := NewKeyPool("other", []string{"sk-x"}, clock.Now).Next()
	p.SetAside(other, time.Hour)
	p.SetAside(Key{}, time.Hour)
	if got := p.Available(); got != 2 {
		t.Errorf("a foreign key set a key aside: available %d", got)
	}
}

func TestKeyPoolEdges(t *testing.T) {
	empty := NewKeyPool("local", nil, nil)
	if k := empty.Next(); k.ID != "" || k.Secret() != "" || empty.Len() != 0 {
		t.Errorf("empty pool handed out %#v", k)
	}
	empty.Report(Key{}, 401, 0)

	single := NewKeyPool("one", []string{"sk-only"}, nil)
	k := single.Next()
	single.Report(k, 401, 0)
	if got := single.Next(); got.Secret() != "sk-only" {
		t.Error("a single key set aside was not handed out: the pool must never fail closed")
	}
}

// TestKeyNeverPrintsItsSecret covers every way a Key may reach a log line,
// a response or a call record by accident.
func TestKeyNeverPrintsItsSecret(t *testing.T) {
	k := NewKeyPool("openai-main", []string{"sk-live-secret"}, nil).Next()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("attempt", "key", k)
	j, err := json.Marshal(struct{ Key Key }{k})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":    fmt.Sprintf("%v", k),
		"%+v":   fmt.Sprintf("%+v", k),
		"%#v":   fmt.Sprintf("%#v", k),
		"%s":    fmt.Sprintf("%s", k),
		"json":  string(j),
		"slog":  logged.String(),
		"slice": fmt.Sprint([]Key{k}),
	}
	for name, out := range outputs {
		if strings.Contains(out, "sk-live-secret") {
			t.Errorf("%s shows the secret: %s", name, out)
		}
		if !strings.Contains(out, "openai-main#1") {
			t.Errorf("%s does not show the key's ID: %s", name, out)
		}
	}
}

func TestKeyPoolConcurrent(t *testing.T) {
	p := NewKeyPool("p", []string{"a", "b", "c", "d"}, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := p.Next()
				switch (i + g) % 5 {
				case 0:
					p.Report(k, 429, time.Microsecond)
				case 1:
					p.Report(k, 200, 0)
				}
				_ = p.Available()
			}
		})
	}
	wg.Wait()
	if a := p.aside.Load(); a < 0 || a > 4 {
		t.Errorf("aside count %d out of range", a)
	}
}
