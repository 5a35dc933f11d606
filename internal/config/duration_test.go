package config

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "0", want: 0},
		{in: "-5s", want: -5 * time.Second},
		{in: "14d", want: 14 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "-1d", want: -24 * time.Hour},
		{in: "+2d", want: 48 * time.Hour},
		{in: "", wantErr: true},
		{in: "30", wantErr: true},
		{in: "5x", wantErr: true},
		{in: "d", wantErr: true},
		{in: "1.5d", wantErr: true},
		{in: "1d-1h", wantErr: true},
		{in: "--5s", wantErr: true},
		{in: "-", wantErr: true},
		{in: "1h2d", wantErr: true},
		{in: "200000d", wantErr: true},
		{in: "106751d24h", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDuration(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Errorf("got %v, want an error", got)
				}
				return
			}
			if err != nil || got.Std() != tc.want {
				t.Errorf("got (%v, %v), want %v", got, err, tc.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{30 * time.Second, "30s"},
		{time.Minute, "1m"},
		{90 * time.Second, "1m30s"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{1500 * time.Millisecond, "1.5s"},
		{24 * time.Hour, "1d"},
		{14 * 24 * time.Hour, "14d"},
		{25 * time.Hour, "25h"},
		{-24 * time.Hour, "-24h"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			d := Duration(tc.in)
			if got := d.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			back, err := ParseDuration(d.String())
			if err != nil || back != d {
				t.Errorf("round trip: got (%v, %v), want %v", back, err, d)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(struct{ D Duration }{Duration(90 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"D":"1m30s"}` {
		t.Errorf("got %s", b)
	}
	var v struct{ D Duration }
	if err := json.Unmarshal([]byte(`{"D":"2d"}`), &v); err != nil || v.D.Std() != 48*time.Hour {
		t.Errorf("got (%v, %v)", v.D, err)
	}
	if err := json.Unmarshal([]byte(`{"D":30}`), &v); err == nil {
		t.Errorf("a bare number was accepted")
	}
}
