package analytics

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// WriteCSV writes the series as CSV: a header "time" then one column per
// metric, one line per point; undefined values are empty cells.
func (s Series) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"time"}
	for _, m := range s.Metrics {
		head = append(head, string(m))
	}
	_ = cw.Write(head)
	for _, p := range s.Points {
		line := []string{p.Time.UTC().Format(time.RFC3339)}
		line = appendCells(line, p.Values, s.Metrics)
		_ = cw.Write(line)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing time series csv: %w", err)
	}
	return nil
}

// WriteCSV writes the breakdown as CSV: a header naming the dimension then
// the metrics, one line per group.
func (b Breakdown) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{string(b.By)}
	for _, m := range b.Metrics {
		head = append(head, string(m))
	}
	_ = cw.Write(head)
	for _, g := range b.Groups {
		_ = cw.Write(appendCells([]string{csvSafe(g.Value)}, g.Values, b.Metrics))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing breakdown csv: %w", err)
	}
	return nil
}

func appendCells(line []string, vs Values, ms []Metric) []string {
	for _, m := range ms {
		if v := vs[m]; v != nil {
			line = append(line, strconv.FormatFloat(*v, 'f', -1, 64))
		} else {
			line = append(line, "")
		}
	}
	return line
}

// csvSafe defuses a value a spreadsheet would run as a formula: consumer
// and route names are chosen by others, and CSV exports are opened in
// spreadsheets.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
