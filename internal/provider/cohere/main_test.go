package cohere

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fixedNow is the clock the tests run with, so that Created is stable.
var fixedNow = time.Date(2025, 8, 26, 9, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	now = func() time.Time { return fixedNow }
	newCallID = func(n int) string { return fmt.Sprintf("call_%d", n) }
	os.Exit(m.Run())
}

// golden compares got with the golden file path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got\n%s\n--- want\n%s", filepath.Base(path), got, want)
	}
}

// indent pretty-prints JSON for golden files, keeping key order.
func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("indenting %s: %v", b, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return indent(t, b)
}

// fixtures lists the files matching pattern under testdata/dir, by name
// without the suffix.
func fixtures(t *testing.T, dir, suffix string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/%s", dir)
	}
	out := map[string]string{}
	for _, p := range paths {
		name := filepath.Base(p)
		out[name[:len(name)-len(suffix)]] = p
	}
	return out
}
