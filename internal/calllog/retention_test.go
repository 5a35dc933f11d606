package calllog

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeRetentionStore models a call log as old rows (past the age limit) and
// fresh rows, each rowBytes large, plus fixed overhead that deletes never free.
type fakeRetentionStore struct {
	mu             sync.Mutex
	old, fresh     int64
	rowBytes       int64
	overhead       int64
	cutoff         time.Time
	oldestCalls    int
	sizeCalls      int
	errDeleteAge   error
	errSize        error
	errDeleteOld   error
	shrinkDisabled bool // size stays put however many rows go, as a file size would without VACUUM
	startSize      int64
}

func (s *fakeRetentionStore) DeleteCallsBefore(_ context.Context, t time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutoff = t
	if s.errDeleteAge != nil {
		return 0, s.errDeleteAge
	}
	n := s.old
	s.old = 0
	return n, nil
}

func (s *fakeRetentionStore) CallsSizeBytes(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sizeCalls++
	if s.errSize != nil {
		return 0, s.errSize
	}
	if s.shrinkDisabled {
		if s.startSize == 0 {
			s.startSize = s.overhead + (s.old+s.fresh)*s.rowBytes
		}
		return s.startSize, nil
	}
	return s.overhead + (s.old+s.fresh)*s.rowBytes, nil
}

func (s *fakeRetentionStore) DeleteOldestCalls(_ context.Context, n int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oldestCalls++
	if s.errDeleteOld != nil {
		return 0, s.errDeleteOld
	}
	d := min(int64(n), s.old+s.fresh)
	fromOld := min(d, s.old)
	s.old -= fromOld
	s.fresh -= d - fromOld
	return d, nil
}

func TestRetentionRunOnce(t *testing.T) {
	errDB := errors.New("database is locked")
	tests := []struct {
		name        string
		ret         Retention
		st          *fakeRetentionStore
		wantDeleted int64
		wantErr     error
		wantFresh   int64
		wantChunks  int
	}{
		{
			name:        "age only, under the size limit",
			ret:         Retention{MaxAge: time.Hour, MaxBytes: 1 << 20},
			st:          &fakeRetentionStore{old: 500, fresh: 100, rowBytes: 100},
			wantDeleted: 500, wantFresh: 100,
		},
		{
			name:        "over the size limit: oldest deleted in chunks",
			ret:         Retention{MaxAge: time.Hour, MaxBytes: 5_000 * 10},
			st:          &fakeRetentionStore{old: 0, fresh: 25_000, rowBytes: 10},
			wantDeleted: 20_000, wantFresh: 5_000, wantChunks: 2,
		},
		{
			name:        "defaults: nothing to do",
			ret:         Retention{},
			st:          &fakeRetentionStore{fresh: 10, rowBytes: 100},
			wantDeleted: 0, wantFresh: 10,
		},
		{
			name:        "limits turned off",
			ret:         Retention{MaxAge: -1, MaxBytes: -1},
			st:          &fakeRetentionStore{old: 10, fresh: 10, rowBytes: 1 << 40},
			wantDeleted: 0, wantFresh: 10,
		},
		{
			name:        "overhead alone over the limit: stops when the log is empty",
			ret:         Retention{MaxBytes: 100},
			st:          &fakeRetentionStore{fresh: 15_000, rowBytes: 1, overhead: 1000},
			wantDeleted: 15_000, wantFresh: 0, wantChunks: 3,
		},
		{
			name:        "size does not shrink: one chunk, then stop",
			ret:         Retention{MaxBytes: 100},
			st:          &fakeRetentionStore{fresh: 50_000, rowBytes: 1, shrinkDisabled: true},
			wantDeleted: 10_000, wantFresh: 40_000, wantChunks: 1,
		},
		{
			name:        "bounded rounds",
			ret:         Retention{MaxBytes: 1},
			st:          &fakeRetentionStore{fresh: 2_000_000, rowBytes: 1},
			wantDeleted: retentionRounds * retentionChunk, wantFresh: 2_000_000 - retentionRounds*retentionChunk,
			wantChunks: retentionRounds,
		},
		{
			name:    "age delete fails",
			ret:     Retention{},
			st:      &fakeRetentionStore{fresh: 10, errDeleteAge: errDB},
			wantErr: errDB, wantFresh: 10,
		},
		{
			name:    "size fails",
			ret:     Retention{},
			st:      &fakeRetentionStore{fresh: 10, errSize: errDB},
			wantErr: errDB, wantFresh: 10,
		},
		{
			name:    "oldest delete fails",
			ret:     Retention{MaxBytes: 1},
			st:      &fakeRetentionStore{fresh: 10, rowBytes: 10, errDeleteOld: errDB},
			wantErr: errDB, wantFresh: 10, wantChunks: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			got, err := tt.ret.RunOnce(context.Background(), tt.st)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RunOnce error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.wantDeleted {
				t.Errorf("deleted %d, want %d", got, tt.wantDeleted)
			}
			if tt.st.fresh != tt.wantFresh {
				t.Errorf("%d fresh rows left, want %d", tt.st.fresh, tt.wantFresh)
			}
			if tt.st.oldestCalls != tt.wantChunks {
				t.Errorf("%d DeleteOldestCalls calls, want %d", tt.st.oldestCalls, tt.wantChunks)
			}
			maxAge := tt.ret.withDefaults().MaxAge
			if maxAge > 0 {
				want := before.Add(-maxAge)
				if d := tt.st.cutoff.Sub(want); d < 0 || d > time.Minute {
					t.Errorf("age cutoff %s, want about %s", tt.st.cutoff, want)
				}
			} else if !tt.st.cutoff.IsZero() {
				t.Error("age deletion ran with MaxAge off")
			}
		})
	}
}

func TestRetentionRunStopsWithContext(t *testing.T) {
	st := &fakeRetentionStore{old: 3, fresh: 1, rowBytes: 1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Retention{Interval: 5 * time.Millisecond}.Run(ctx, st)
		close(done)
	}()
	eventually(t, "retention runs at least twice", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.sizeCalls >= 2
	})
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.old != 0 {
		t.Errorf("%d old rows left", st.old)
	}
}
