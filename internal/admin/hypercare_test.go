package admin

import (
	"time"

	"github.com/hypergate/hypergate/internal/hypercare"
)

// withHypercareReport stores a daily report of the fixture's window, ready
// to leave hypercare, with every optional field set.
func withHypercareReport(f *oasFixture) {
	f.t.Helper()
	cfg, _ := f.configs.Current()
	at := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	rep, err := hypercare.Build(f.t.Context(), f.db, cfg.Hypercare[0], at, hypercare.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	since := at.Add(-time.Hour)
	rep.Exit.Ready, rep.Exit.Since = true, &since
	sr := hypercare.Stored(rep, at.Add(time.Minute))
	if ok, err := f.db.SaveHypercareReport(f.t.Context(), sr); err != nil || !ok {
		f.t.Fatalf("SaveHypercareReport = %v, %v", ok, err)
	}
	f.server.Now = func() time.Time { return at.Add(2 * time.Hour) }
}
