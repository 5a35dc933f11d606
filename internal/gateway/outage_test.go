package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/gateway"
	_ "github.com/hypergate/hypergate/internal/provider/openai"
	"github.com/hypergate/hypergate/internal/provider/openai/openaifake"
	"github.com/hypergate/hypergate/internal/store"
)

// outageStore is the real store with a switch that makes every write fail,
// as a database that went away would.
type outageStore struct {
	*store.DB
	down atomic.Bool
}

func (o *outageStore) InsertCalls(ctx context.Context, recs []calllog.Record) error {
	if o.down.Load() {
		return errors.New("connection refused (store outage simulated)")
	}
	return o.DB.InsertCalls(ctx, recs)
}

// TestStoreOutageUnderTraffic: with the store unavailable, requests keep
// flowing, records spill to disk, and once the store is back every record
// is there exactly once.
func TestStoreOutageUnderTraffic(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "hypergate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &outageStore{DB: db}
	rec, err := calllog.NewRecorder(st, calllog.Options{SpillDir: dir, QueueSize: 256, FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	up := openaifake.New(openaifake.Options{})
	defer up.Close()
	t.Setenv("OUTAGE_KEY", "hg-outage-key-0123456789abcdefghijklmnopqrstu")
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
providers: [ { name: fake, type: openai, base_url: %q } ]
models: [ { name: m, targets: [ { provider: fake } ] } ]
consumers: [ { name: c, keys: [ { name: k, key: env:OUTAGE_KEY } ] } ]
`, up.BaseURL())))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(gateway.Options{Recorder: rec})
	gw.SetSnapshot(snap)
	srv := gw.Server()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown()

	var sent atomic.Int64
	var failed atomic.Int64
	send := func(phase string, n int) {
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < n/8; i++ {
					req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/chat/completions",
						strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
					req.Header.Set("Authorization", "Bearer hg-outage-key-0123456789abcdefghijklmnopqrstu")
					req.Header.Set("X-Request-Id", fmt.Sprintf("%s-%d-%d", phase, w, i))
					resp, err := http.DefaultClient.Do(req)
					if err != nil || resp.StatusCode != 200 {
						failed.Add(1)
					}
					if resp != nil {
						resp.Body.Close()
					}
					sent.Add(1)
				}
			}(w)
		}
		wg.Wait()
	}

	send("before", 200)
	st.down.Store(true)
	send("during", 800)
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed while the store was down: the data plane must not depend on it", failed.Load())
	}
	deadline := time.Now().Add(5 * time.Second)
	for rec.Stats().Spilled == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rec.Stats().Spilled == 0 {
		t.Fatal("no record was spilled while the store was down")
	}
	st.down.Store(false)
	send("after", 200)

	// Wait for the replay (the recorder retries with backoff), then close to flush.
	deadline = time.Now().Add(60 * time.Second)
	for {
		var n int64
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM calls").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == sent.Load() || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var n, distinct int64
	if err := db.SQL().QueryRow("SELECT COUNT(*), COUNT(DISTINCT id) FROM calls").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	stats := rec.Stats()
	t.Logf("sent %d, stored %d, spilled %d, replayed %d, dropped %d", sent.Load(), n, stats.Spilled, stats.Replayed, stats.Dropped)
	if n != sent.Load() || distinct != n {
		t.Fatalf("stored %d records (%d distinct), want exactly %d", n, distinct, sent.Load())
	}
	if stats.Dropped != 0 || stats.Replayed == 0 {
		t.Errorf("stats = %+v, want replayed > 0 and nothing dropped", stats)
	}
}
