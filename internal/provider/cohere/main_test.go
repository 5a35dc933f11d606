package cohere

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/provider/codectest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fixedNow is the clock the tests run with, so that Created is stable.
var fixedNow = time.Date(2025, 8, 26, 9, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	now = func() time.Time { return fixedNow }
	newCallID = func(n int) string { return fmt.Sprintf("call_%d", n) }
	os.Exit(m.Run())
}

func golden(t *testing.T, path string, got []byte) { codectest.Golden(t, path, got, *update) }

func indent(t *testing.T, b []byte) []byte { return codectest.Indent(t, b) }

func fixtures(t *testing.T, dir, suffix string) map[string]string {
	return codectest.Fixtures(t, dir, suffix)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return indent(t, b)
}
