package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The inputs in testdata/ are the JSON lines of real bench/run runs on the
// project's two-CPU machine; the reports rendered from them are golden files.
func TestRender(t *testing.T) {
	m := machine{
		Date: "2026-11-27 03:55 UTC", Nproc: "2", CPU: "AMD EPYC", Go: "go1.26.8", Nginx: "nginx/1.22.1",
		Method: "closed loops: 64 connections, 3s each after a 1s warm-up",
	}
	tests := []struct {
		name  string
		input string
	}{
		{name: "all targets", input: "full"},
		{name: "hypergate missing", input: "without-hypergate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.input+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := parse(f)
			if err != nil {
				t.Fatal(err)
			}
			got := render(m, res)
			golden := filepath.Join("testdata", tt.input+".md")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("report differs from %s; got:\n%s", golden, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{name: "broken JSON", input: `{"label":"direct",`, want: "line 1"},
		{name: "unknown mode", input: `{"label":"direct","mode":"sideways"}`, want: `unknown mode "sideways"`},
		{name: "no closed run", input: `{"label":"direct","mode":"open"}`, want: "no closed-loop run"},
		{name: "empty", input: "", want: "no closed-loop run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parse(%q) = %v, want an error containing %q", tt.input, err, tt.want)
			}
		})
	}
}

func TestParseSkipsLogLines(t *testing.T) {
	res, err := parse(strings.NewReader("building…\n\n" + `{"label":"direct","mode":"closed","ok":3,"rps":1}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.closed[direct].OK != 3 {
		t.Errorf("closed run not read: %+v", res.closed)
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{name: "sub-100µs", got: lat(45.04), want: "45.0 µs"},
		{name: "µs", got: lat(551), want: "551 µs"},
		{name: "ms", got: lat(2270), want: "2.27 ms"},
		{name: "tens of ms", got: lat(18700), want: "18.7 ms"},
		{name: "added", got: added(175, 112, true), want: "+63.0 µs"},
		{name: "negative added", got: added(290, 390, true), want: "−100 µs"},
		{name: "added without base", got: added(1, 0, false), want: na},
		{name: "ratio", got: ratio(17865, 43922), want: "0.41×"},
		{name: "ratio by zero", got: ratio(1, 0), want: na},
		{name: "thousands", got: count(1234567.4), want: "1,234,567"},
		{name: "small count", got: count(999), want: "999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
