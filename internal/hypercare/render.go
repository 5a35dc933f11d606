package hypercare

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"
)

const timeFormat = "2006-01-02 15:04 MST"

// Markdown renders the report for people: a summary, one line per metric
// in plain words, a table of the figures and the exit criteria.
func Markdown(r *Report) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Hypercare report: %s\n\n", mdEscape(r.Window))
	fmt.Fprintf(&b, "%s, %s. Report as of %s.\n\n", capitalize(mdEscape(r.Target)), stateWords(r.State), r.At.Format(timeFormat))
	fmt.Fprintf(&b, "- Window: %s → %s, %d calls, %d thumbs up or down\n", r.Period.From.Format(timeFormat), r.Period.To.Format(timeFormat), r.Period.Calls, r.Period.Feedback)
	fmt.Fprintf(&b, "- Baseline: %s → %s, %d calls, %d thumbs up or down\n\n", r.Baseline.From.Format(timeFormat), r.Baseline.To.Format(timeFormat), r.Baseline.Calls, r.Baseline.Feedback)
	fmt.Fprintf(&b, "**%s**\n\n", r.Summary)
	b.WriteString("## Verdicts\n\n")
	for _, m := range r.Metrics {
		fmt.Fprintf(&b, "- %s\n", m.Text)
	}
	b.WriteString("\n| Metric | Baseline | Window | Change | Test | Verdict |\n|---|---:|---:|---:|---|---|\n")
	for _, m := range r.Metrics {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", m.Label, value(m.Unit, m.Baseline), value(m.Unit, m.Window),
			change(m.Change), pText(m.P), m.Verdict)
	}
	if e := r.Exit; e != nil {
		b.WriteString("\n## Exit criteria\n\n")
		fmt.Fprintf(&b, "%s\n\n", e.Text)
		var limits []string
		for _, c := range e.Criteria {
			limits = append(limits, fmt.Sprintf("%s ≤ %s", c.Label, FormatValue(c.Unit, c.Limit)))
		}
		fmt.Fprintf(&b, "Each must hold on each of the last %d full days: %s.\n", e.Days, strings.Join(limits, ", "))
		if len(e.History) > 0 {
			b.WriteString("\n| Day | From | Calls |")
			for _, c := range e.Criteria {
				b.WriteString(" " + c.Label + " |")
			}
			b.WriteString(" Held |\n|---:|---|---:|")
			for range e.Criteria {
				b.WriteString("---:|")
			}
			b.WriteString("---|\n")
			for _, d := range e.History {
				fmt.Fprintf(&b, "| %d | %s | %d |", d.Day, d.From.Format("2006-01-02"), d.Calls)
				for _, c := range e.Criteria {
					v, ok := d.Values[c.Metric]
					if ok {
						b.WriteString(" " + FormatValue(c.Unit, v) + " |")
					} else {
						b.WriteString(" – |")
					}
				}
				if d.Held {
					b.WriteString(" yes |\n")
				} else {
					b.WriteString(" no |\n")
				}
			}
		}
	}
	fmt.Fprintf(&b, "\n*Method:* %s\n", r.Method)
	return []byte(b.String())
}

// mdEscape keeps names from breaking the Markdown: table pipes and
// emphasis or link markup are escaped, line breaks flattened.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;",
		"`", "\\`", "\n", " ", "\r", " ").Replace(s)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func stateWords(s State) string {
	switch s {
	case StateScheduled:
		return "window not started yet"
	case StateEnded:
		return "window ended"
	case StateReadyToExit:
		return "in hypercare, ready to leave"
	}
	return "in hypercare"
}

func value(unit string, v *float64) string {
	if v == nil {
		return "–"
	}
	return FormatValue(unit, *v)
}

func change(c *float64) string {
	if c == nil {
		return "–"
	}
	return signed(unitRatio, *c)
}

func pText(p *float64) string {
	if p == nil {
		return "–"
	}
	return FormatP(*p)
}

// HTML renders the report as one self-contained page: inline style, no
// script, every value escaped by html/template.
func HTML(r *Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, r); err != nil {
		return nil, fmt.Errorf("rendering report %s: %w", r.Window, err)
	}
	return buf.Bytes(), nil
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"time":   func(t time.Time) string { return t.Format(timeFormat) },
	"date":   func(t time.Time) string { return t.Format("2006-01-02") },
	"value":  value,
	"change": change,
	"p":      pText,
	"state":  stateWords,
	"cap":    capitalize,
	"fmt":    FormatValue,
	"cell": func(d ExitDay, c Criterion) string {
		if v, ok := d.Values[c.Metric]; ok {
			return FormatValue(c.Unit, v)
		}
		return "–"
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hypercare report: {{.Window}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.regressed{color:#b00020;font-weight:600}.improved{color:#0a7d32;font-weight:600}
.unchanged{color:#555}.nodata{color:#888;font-style:italic}
.summary{font-size:1.1rem;font-weight:600}.method{color:#666;font-size:.85rem}
</style>
</head>
<body>
<h1>Hypercare report: {{.Window}}</h1>
<p>{{cap .Target}}, {{state .State}}. Report as of {{time .At}}.</p>
<ul>
<li>Window: {{time .Period.From}} → {{time .Period.To}}, {{.Period.Calls}} calls, {{.Period.Feedback}} thumbs up or down</li>
<li>Baseline: {{time .Baseline.From}} → {{time .Baseline.To}}, {{.Baseline.Calls}} calls, {{.Baseline.Feedback}} thumbs up or down</li>
</ul>
<p class="summary">{{.Summary}}</p>
<h2>Verdicts</h2>
<ul>
{{- range .Metrics}}
<li class="{{if eq .Verdict "not enough data"}}nodata{{else}}{{.Verdict}}{{end}}">{{.Text}}</li>
{{- end}}
</ul>
<table>
<thead><tr><th>Metric</th><th>Baseline</th><th>Window</th><th>Change</th><th>Test</th><th>Verdict</th></tr></thead>
<tbody>
{{- range .Metrics}}
<tr><td>{{.Label}}</td><td class="n">{{value .Unit .Baseline}}</td><td class="n">{{value .Unit .Window}}</td><td class="n">{{change .Change}}</td><td>{{p .P}}</td><td class="{{if eq .Verdict "not enough data"}}nodata{{else}}{{.Verdict}}{{end}}">{{.Verdict}}</td></tr>
{{- end}}
</tbody>
</table>
{{- with .Exit}}
<h2>Exit criteria</h2>
<p>{{.Text}}</p>
<p>Each must hold on each of the last {{.Days}} full days:{{range $i, $c := .Criteria}}{{if $i}},{{end}} {{$c.Label}} ≤ {{fmt $c.Unit $c.Limit}}{{end}}.</p>
{{- if .History}}
<table>
<thead><tr><th>Day</th><th>From</th><th>Calls</th>{{range .Criteria}}<th>{{.Label}}</th>{{end}}<th>Held</th></tr></thead>
<tbody>
{{- $crit := .Criteria}}
{{- range .History}}
{{- $d := .}}
<tr><td class="n">{{.Day}}</td><td>{{date .From}}</td><td class="n">{{.Calls}}</td>{{range $crit}}<td class="n">{{cell $d .}}</td>{{end}}<td class="{{if .Held}}improved{{else}}regressed{{end}}">{{if .Held}}yes{{else}}no{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}
<p class="method">Method: {{.Method}}</p>
</body>
</html>
`))
