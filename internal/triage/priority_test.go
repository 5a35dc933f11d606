package triage

import (
	"math"
	"testing"
)

func TestPriority(t *testing.T) {
	tests := []struct {
		name                        string
		sev                         Severity
		consumers, endUsers, recent int64
		want                        float64
	}{
		// severity × (1 + log2(1+c) + log2(1+u)) × log2(2 + n)
		{"low, nobody, nothing recent", SeverityLow, 0, 0, 0, 1},
		{"medium, nobody, nothing recent", SeverityMedium, 0, 0, 0, 2},
		{"high, nobody, nothing recent", SeverityHigh, 0, 0, 0, 4},
		{"critical, nobody, nothing recent", SeverityCritical, 0, 0, 0, 8},
		{"one consumer", SeverityLow, 1, 0, 0, 2},
		{"three consumers, one end user", SeverityLow, 3, 1, 0, 4},
		{"two calls today", SeverityLow, 0, 0, 2, 2},
		{"high, 3 consumers, 7 users, 14 today", SeverityHigh, 3, 7, 14, 4 * 6 * 4},
		{"unknown severity counts as low", Severity("bogus"), 0, 0, 0, 1},
		{"negative counts count as zero", SeverityLow, -5, -5, -5, 1},
		{"rounded to two decimals", SeverityLow, 0, 0, 1, math.Round(math.Log2(3)*100) / 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Priority(tt.sev, tt.consumers, tt.endUsers, tt.recent); got != tt.want {
				t.Errorf("Priority = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPriorityOrder checks the ranking the formula is meant to give.
func TestPriorityOrder(t *testing.T) {
	tests := []struct {
		name          string
		higher, lower float64
	}{
		{"a step of severity beats doubling the calls",
			Priority(SeverityHigh, 1, 0, 100), Priority(SeverityMedium, 1, 0, 200)},
		{"more consumers rank higher", Priority(SeverityMedium, 10, 0, 10), Priority(SeverityMedium, 1, 0, 10)},
		{"more end users rank higher", Priority(SeverityMedium, 1, 50, 10), Priority(SeverityMedium, 1, 5, 10)},
		{"recurring today ranks above gone quiet", Priority(SeverityMedium, 2, 2, 5), Priority(SeverityMedium, 2, 2, 0)},
		{"a burst of a thousand does not swamp severity", Priority(SeverityCritical, 1, 1, 1), Priority(SeverityLow, 1, 1, 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.higher <= tt.lower {
				t.Errorf("%v should rank above %v", tt.higher, tt.lower)
			}
		})
	}
}

func TestSeverityTable(t *testing.T) {
	tab, err := NewSeverityTable(map[string]string{"refusal": "low", "5xx": "CRITICAL", "negative_feedback": "high"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		k    Key
		want Severity
	}{
		{"5xx overridden", Key{Kind: KindFailure, StatusClass: ClassServerError}, SeverityCritical},
		{"timeout default", Key{Kind: KindFailure, StatusClass: ClassTimeout}, SeverityHigh},
		{"4xx default", Key{Kind: KindFailure, StatusClass: ClassClientError}, SeverityMedium},
		{"refusal overridden", Key{Kind: KindAnomaly, Flag: "refusal"}, SeverityLow},
		{"empty output default", Key{Kind: KindAnomaly, Flag: "empty_output"}, SeverityHigh},
		{"unknown flag", Key{Kind: KindAnomaly, Flag: "new_detector"}, SeverityLow},
		{"negative feedback overridden", Key{Kind: KindFeedback, Score: "helpful"}, SeverityHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tab.Of(tt.k); got != tt.want {
				t.Errorf("Of = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := NewSeverityTable(map[string]string{"5xx": "urgent"}); err == nil {
		t.Errorf("an unknown severity was accepted")
	}
}

func TestCanMove(t *testing.T) {
	tests := []struct {
		from, to State
		ok       bool
	}{
		{StateOpen, StateAcknowledged, true},
		{StateAcknowledged, StateAcknowledged, false},
		{StateResolved, StateAcknowledged, false},
		{StateOpen, StateResolved, true},
		{StateAcknowledged, StateResolved, true},
		{StateIgnored, StateResolved, false},
		{StateOpen, StateIgnored, true},
		{StateResolved, StateIgnored, true},
		{StateIgnored, StateIgnored, false},
		{StateResolved, StateOpen, true},
		{StateIgnored, StateOpen, true},
		{StateAcknowledged, StateOpen, true},
		{StateOpen, StateOpen, false},
		{StateOpen, State("closed"), false},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			if got := CanMove(tt.from, tt.to); got != tt.ok {
				t.Errorf("CanMove = %v, want %v", got, tt.ok)
			}
		})
	}
}
