package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// na stands in a cell whose figure was not measured (hypergate did not build,
// say) or cannot be computed.
const na = "n/a"

func render(m machine, res *results) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("## Hypergate vs nginx\n\n")
	w("| | |\n|---|---|\n")
	w("| date | %s |\n", cell(m.Date))
	w("| CPUs (`nproc`) | %s |\n", cell(m.Nproc))
	w("| CPU model | %s |\n", cell(m.CPU))
	w("| Go | %s |\n", cell(m.Go))
	w("| nginx | %s |\n", cell(m.Nginx))
	if m.Method != "" {
		w("| method | %s |\n", m.Method)
	}

	w("\n### Key figures\n\n| figure | value |\n|---|---|\n")
	hg, hgOK := res.closed[hypergate]
	ng, ngOK := res.closed[nginx]
	if hgOK && ngOK {
		w("| throughput, hypergate / nginx | %s (%s vs %s req/s) |\n", ratio(hg.RPS, ng.RPS), count(hg.RPS), count(ng.RPS))
		w("| p50 / p99 latency at peak, hypergate / nginx | %s / %s |\n", ratio(hg.Latency.P50, ng.Latency.P50), ratio(hg.Latency.P99, ng.Latency.P99))
	} else {
		w("| throughput, hypergate / nginx | %s |\n", na)
	}
	if o, ok := res.open[hypergate]; ok {
		d := res.open[direct]
		w("| added latency at %s req/s (half of hypergate's peak), p50 / p99 | %s / %s |\n",
			count(o.TargetRate), added(o.Latency.P50, d.Latency.P50, has(res.open, direct)), added(o.Latency.P99, d.Latency.P99, has(res.open, direct)))
	} else {
		w("| added latency at half of hypergate's peak | %s |\n", na)
	}
	if s, ok := res.stream[hypergate]; ok && s.TTFB != nil && res.stream[direct].TTFB != nil {
		d := res.stream[direct]
		w("| added first-chunk latency on SSE streams, p50 / p99 | %s / %s |\n", added(s.TTFB.P50, d.TTFB.P50, true), added(s.TTFB.P99, d.TTFB.P99, true))
	} else {
		w("| added first-chunk latency on SSE streams | %s |\n", na)
	}
	if hgCPU, ngCPU := cpuPerRequest(res, hypergate), cpuPerRequest(res, nginx); hgCPU > 0 && ngCPU > 0 {
		w("| proxy CPU time per request at peak, hypergate / nginx | %s (%s vs %s) |\n", ratio(hgCPU, ngCPU), lat(hgCPU), lat(ngCPU))
	}
	w("| hypergate peak RSS (VmHWM) | %s |\n", mib(res.memory, hypergate))
	if c, ok := res.callLog[hypergate]; ok {
		w("| hypergate call records written / spilled / dropped | %s / %s / %s |\n",
			count(float64(c.CallLog.Written)), count(float64(c.CallLog.Spilled)), count(float64(c.CallLog.Dropped)))
	}

	w("\n### Peak throughput (closed loop")
	if r, ok := res.closed[direct]; ok && r.Conns > 0 {
		w(", %d connections", r.Conns)
	}
	w(")\n\n| path | req/s | p50 | p90 | p99 | max | non-2xx | errors |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range targets {
		r, ok := res.closed[t]
		if !ok {
			w("| %s | %s | | | | | | |\n", t, na)
			continue
		}
		w("| %s | %s | %s | %s | %s | %s | %d | %s |\n", t, count(r.RPS), lat(r.Latency.P50), lat(r.Latency.P90), lat(r.Latency.P99), lat(r.Latency.Max), r.Non2xx, errs(r))
	}
	if hgOK && ngOK {
		w("| **hypergate / nginx** | %s | %s | %s | %s | %s | | |\n", ratio(hg.RPS, ng.RPS),
			ratio(hg.Latency.P50, ng.Latency.P50), ratio(hg.Latency.P90, ng.Latency.P90),
			ratio(hg.Latency.P99, ng.Latency.P99), ratio(hg.Latency.Max, ng.Latency.Max))
	}

	if len(res.cpu) > 0 {
		w("\n### CPU use during the peak runs\n\n")
		w("From `/proc/PID/stat` (user + system time); 100%% is one CPU fully busy.\n\n")
		w("| path | proxy CPU | proxy CPU per request | mock CPU | mock CPU per request |\n|---|--:|--:|--:|--:|\n")
		for _, t := range targets {
			c, ok := res.cpu[t]
			r, rok := res.closed[t]
			if !ok || !rok || r.OK == 0 || r.DurationS == 0 {
				continue
			}
			proxy, perReq := "—", "—"
			if c.CPU.ProxyS != nil {
				proxy = pct(*c.CPU.ProxyS / r.DurationS)
				perReq = lat(cpuPerRequest(res, t))
			}
			w("| %s | %s | %s | %s | %s |\n", t, proxy, perReq, pct(c.CPU.MockS/r.DurationS), lat(c.CPU.MockS*1e6/float64(r.OK)))
		}
	}

	if len(res.open) > 0 {
		rate := 0.0
		for _, r := range res.open {
			rate = r.TargetRate
		}
		base, baseOK := res.open[direct]
		w("\n### Latency at a fixed rate (open loop, %s req/s)\n\n", count(rate))
		w("Latency runs from each request's scheduled send time, so queueing is counted. ")
		w("*Added* is the difference with the direct path at the same rate.\n\n")
		w("| path | achieved req/s | p50 | p90 | p99 | max | added p50 | added p99 | non-2xx | errors |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, t := range targets {
			r, ok := res.open[t]
			if !ok {
				w("| %s | %s | | | | | | | | |\n", t, na)
				continue
			}
			addP50, addP99 := "—", "—"
			if t != direct {
				addP50, addP99 = added(r.Latency.P50, base.Latency.P50, baseOK), added(r.Latency.P99, base.Latency.P99, baseOK)
			}
			w("| %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", t, count(r.RPS), lat(r.Latency.P50), lat(r.Latency.P90),
				lat(r.Latency.P99), lat(r.Latency.Max), addP50, addP99, r.Non2xx, errs(r))
		}
	}

	if len(res.stream) > 0 {
		conns := 0
		for _, r := range res.stream {
			conns = r.Conns
		}
		base, baseOK := res.stream[direct]
		baseOK = baseOK && base.TTFB != nil
		w("\n### SSE streams (closed loop, %d connections)\n\n", conns)
		w("*First chunk* is the time to the first `data:` line of the stream; *total* is the time to `data: [DONE]`.\n\n")
		w("| path | streams/s | first chunk p50 | first chunk p99 | added p50 | added p99 | total p50 | total p99 | non-2xx | errors |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, t := range targets {
			r, ok := res.stream[t]
			if !ok || r.TTFB == nil {
				w("| %s | %s | | | | | | | | |\n", t, na)
				continue
			}
			addP50, addP99 := "—", "—"
			if t != direct {
				addP50, addP99 = added(r.TTFB.P50, base.TTFB.P50, baseOK), added(r.TTFB.P99, base.TTFB.P99, baseOK)
			}
			w("| %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", t, count(r.RPS), lat(r.TTFB.P50), lat(r.TTFB.P99),
				addP50, addP99, lat(r.Latency.P50), lat(r.Latency.P99), r.Non2xx, errs(r))
		}
	}

	if len(res.memory) > 0 {
		w("\n### Peak memory\n\n| process | peak RSS (VmHWM) |\n|---|--:|\n")
		for _, t := range []string{hypergate, nginx} {
			m, ok := res.memory[t]
			if !ok {
				continue
			}
			name := t
			if m.Processes > 1 {
				name = fmt.Sprintf("%s (sum of %d processes)", t, m.Processes)
			}
			w("| %s | %s |\n", name, mib(res.memory, t))
		}
	}

	var notes []string
	for _, t := range targets {
		for _, r := range []run{res.closed[t], res.open[t], res.stream[t]} {
			if r.FirstErr != "" {
				notes = append(notes, fmt.Sprintf("%s (%s%s): %s", t, r.Mode, streamTag(r), r.FirstErr))
			}
		}
	}
	if len(notes) > 0 {
		w("\nFirst error of each run that had any:\n\n")
		for _, n := range notes {
			w("- %s\n", strings.ReplaceAll(n, "|", `\|`))
		}
	}
	return b.String()
}

// cpuPerRequest returns the proxy's CPU microseconds per request of a
// target's peak run, or 0 if it was not measured.
func cpuPerRequest(res *results, label string) float64 {
	c, ok := res.cpu[label]
	r, rok := res.closed[label]
	if !ok || !rok || c.CPU.ProxyS == nil || r.OK == 0 {
		return 0
	}
	return *c.CPU.ProxyS * 1e6 / float64(r.OK)
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

func has[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

func streamTag(r run) string {
	if r.Stream {
		return ", stream"
	}
	return ""
}

func cell(s string) string {
	if s == "" {
		return na
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

// lat formats microseconds.
func lat(us float64) string {
	switch {
	case us >= 10_000:
		return fmt.Sprintf("%.1f ms", us/1000)
	case us >= 1000:
		return fmt.Sprintf("%.2f ms", us/1000)
	case us >= 100:
		return fmt.Sprintf("%.0f µs", us)
	default:
		return fmt.Sprintf("%.1f µs", us)
	}
}

// added formats the difference v − base in microseconds with its sign.
func added(v, base float64, ok bool) string {
	if !ok {
		return na
	}
	d := v - base
	if d < 0 {
		return "−" + lat(-d)
	}
	return "+" + lat(d)
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a/b) {
		return na
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// count formats a rate with thousands separators.
func count(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func errs(r run) string {
	if r.Unsent > 0 {
		return fmt.Sprintf("%d (+%d unsent)", r.Errors, r.Unsent)
	}
	return strconv.FormatUint(r.Errors, 10)
}

func mib(mem map[string]memory, label string) string {
	m, ok := mem[label]
	if !ok {
		return na
	}
	return fmt.Sprintf("%.1f MiB", float64(m.VmHWMKB)/1024)
}
