// Command report turns the JSON lines written by bench/load (and the memory
// lines written by bench/run) into the Markdown tables of
// docs/benchmarks.md: peak throughput, latency at a fixed rate, first-chunk
// latency of SSE streams and peak memory, for the mock reached directly,
// through nginx and through hypergate, with hypergate's ratios and added
// latencies computed from them.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
)

// The labels bench/run gives its targets, in table order.
const (
	direct    = "direct"
	nginx     = "nginx"
	hypergate = "hypergate"
)

var targets = []string{direct, nginx, hypergate}

// run is one JSON line from bench/load.
type run struct {
	Label      string   `json:"label"`
	Mode       string   `json:"mode"`
	Stream     bool     `json:"stream"`
	Conns      int      `json:"conns"`
	TargetRate float64  `json:"target_rate"`
	DurationS  float64  `json:"duration_s"`
	OK         uint64   `json:"ok"`
	Non2xx     uint64   `json:"non_2xx"`
	Errors     uint64   `json:"errors"`
	Unsent     uint64   `json:"unsent"`
	RPS        float64  `json:"rps"`
	Latency    summary  `json:"latency_us"`
	TTFB       *summary `json:"ttfb_us"`
	FirstErr   string   `json:"first_error"`
}

// summary is a latency distribution in microseconds.
type summary struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// memory is a line bench/run writes after the runs: the peak resident set of
// a target's processes, from VmHWM in /proc/PID/status.
type memory struct {
	Label     string `json:"label"`
	VmHWMKB   uint64 `json:"vmhwm_kb"`
	Processes int    `json:"processes"`
}

// cpuUse is a line bench/run writes around each closed-loop run: the CPU
// seconds the mock and the proxy (absent on the direct path) used during it.
type cpuUse struct {
	Label string `json:"label"`
	CPU   struct {
		MockS  float64  `json:"mock_s"`
		ProxyS *float64 `json:"proxy_s"`
	} `json:"cpu"`
}

// callLog is the line bench/run writes from hypergate's last log line: how
// many call records it wrote, spilled to its local file and dropped.
type callLog struct {
	Label   string `json:"label"`
	CallLog struct {
		Written uint64 `json:"written"`
		Spilled uint64 `json:"spilled"`
		Dropped uint64 `json:"dropped"`
	} `json:"calllog"`
}

// machine describes where the figures were taken.
type machine struct {
	Date, Nproc, CPU, Go, Nginx, Method string
}

// results are the runs of one bench/run, indexed for the tables.
type results struct {
	closed, open, stream map[string]run
	memory               map[string]memory
	cpu                  map[string]cpuUse
	callLog              map[string]callLog
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("report: ")
	var m machine
	in := flag.String("in", "-", "file of JSON lines to read (- for stdin)")
	flag.StringVar(&m.Date, "date", "", "date of the run")
	flag.StringVar(&m.Nproc, "nproc", "", "output of nproc")
	flag.StringVar(&m.CPU, "cpu", "", "CPU model")
	flag.StringVar(&m.Go, "go", "", "Go version")
	flag.StringVar(&m.Nginx, "nginx", "", "nginx version")
	flag.StringVar(&m.Method, "method", "", "one line on how the figures were taken")
	flag.Parse()

	r := io.Reader(os.Stdin)
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		r = f
	}
	res, err := parse(r)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.WriteString(os.Stdout, render(m, res)); err != nil {
		log.Fatal(err)
	}
}

// parse reads JSON lines; blank lines and lines that are not JSON objects
// (a stray log line) are skipped.
func parse(r io.Reader) (*results, error) {
	res := &results{closed: map[string]run{}, open: map[string]run{}, stream: map[string]run{}, memory: map[string]memory{}, cpu: map[string]cpuUse{}, callLog: map[string]callLog{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var probe struct {
			VmHWMKB *uint64          `json:"vmhwm_kb"`
			CPU     *json.RawMessage `json:"cpu"`
			CallLog *json.RawMessage `json:"calllog"`
		}
		if err := json.Unmarshal([]byte(line), &probe); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if probe.VmHWMKB != nil {
			var m memory
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			res.memory[m.Label] = m
			continue
		}
		if probe.CPU != nil {
			var c cpuUse
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			res.cpu[c.Label] = c
			continue
		}
		if probe.CallLog != nil {
			var c callLog
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			res.callLog[c.Label] = c
			continue
		}
		var rn run
		if err := json.Unmarshal([]byte(line), &rn); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch {
		case rn.Stream:
			res.stream[rn.Label] = rn
		case rn.Mode == "open":
			res.open[rn.Label] = rn
		case rn.Mode == "closed":
			res.closed[rn.Label] = rn
		default:
			return nil, fmt.Errorf("line %d: unknown mode %q", n, rn.Mode)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading results: %w", err)
	}
	if len(res.closed) == 0 {
		return nil, errors.New("no closed-loop run in the input")
	}
	return res, nil
}
