package calllog

import (
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/hypergate/hypergate/internal/jsonenc"
)

// A spill file line is exactly what json.Marshal makes of a Record, so files
// written before the encoder below existed and files written by it are one
// format, read by one decoder. The encoder exists because json.Marshal's
// reflection was a fifth of the spill path's CPU, and the spill path runs on
// the request goroutine at peak load. The tests hold it to json.Marshal's
// bytes, field for field (TestAppendRecordMatchesMarshal, FuzzAppendRecord).

// appendRecord appends rec as json.Marshal would encode it. For the values
// json.Marshal refuses (a time outside years 0–9999 or with a zone offset of
// a day or more, a NaN or infinite cost) it defers to json.Marshal, so the
// error is the same too.
func appendRecord(b []byte, rec *Record) ([]byte, error) {
	if !fastEncodable(rec) {
		// A copy, so that rec does not escape: json.Marshal would move every
		// record the caller encodes to the heap, not only this rare one.
		cp := *rec
		line, err := json.Marshal(&cp)
		if err != nil {
			return b, err
		}
		return append(b, line...), nil
	}
	b = append(b, `{"id":`...)
	b = jsonenc.AppendString(b, rec.ID)
	b = append(b, `,"time":"`...)
	b = rec.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendStringField(b, `,"consumer":`, rec.Consumer)
	b = appendStringField(b, `,"key_id":`, rec.KeyID)
	b = append(b, `,"endpoint":`...)
	b = jsonenc.AppendString(b, rec.Endpoint)
	b = appendStringField(b, `,"service":`, rec.Service)
	b = appendStringField(b, `,"route":`, rec.Route)
	b = appendStringField(b, `,"model":`, rec.Model)
	b = appendStringField(b, `,"provider":`, rec.Provider)
	b = appendStringField(b, `,"upstream_model":`, rec.UpstreamModel)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(rec.Status), 10)
	b = appendStringField(b, `,"error_type":`, rec.ErrorType)
	b = appendStringField(b, `,"error_message":`, rec.ErrorMessage)
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendInt(b, rec.LatencyUS, 10)
	b = appendIntField(b, `,"upstream_us":`, rec.UpstreamUS)
	b = appendIntField(b, `,"ttft_us":`, rec.TTFTUS)
	b = appendIntField(b, `,"input_tokens":`, rec.InputTokens)
	b = appendIntField(b, `,"output_tokens":`, rec.OutputTokens)
	if rec.CostUSD != 0 {
		b = append(b, `,"cost_usd":`...)
		b = appendFloat(b, rec.CostUSD)
	}
	if rec.Stream {
		b = append(b, `,"stream":true`...)
	}
	b = append(b, `,"request_bytes":`...)
	b = strconv.AppendInt(b, rec.RequestBytes, 10)
	b = append(b, `,"response_bytes":`...)
	b = strconv.AppendInt(b, rec.ResponseBytes, 10)
	b = appendStringField(b, `,"client_ip":`, rec.ClientIP)
	b = appendStringField(b, `,"user_agent":`, rec.UserAgent)
	b = appendStringField(b, `,"trace_id":`, rec.TraceID)
	b = appendStringField(b, `,"request_body":`, rec.RequestBody)
	b = appendStringField(b, `,"response_body":`, rec.ResponseBody)
	if len(rec.Attempts) > 0 {
		b = append(b, `,"attempts":[`...)
		for i := range rec.Attempts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAttempt(b, &rec.Attempts[i])
		}
		b = append(b, ']')
	}
	if rec.Fallback {
		b = append(b, `,"fallback":true`...)
	}
	if rec.UsageEstimated {
		b = append(b, `,"usage_estimated":true`...)
	}
	b = appendStrings(b, `,"dropped":[`, rec.Dropped)
	if rec.CacheHit {
		b = append(b, `,"cache_hit":true`...)
	}
	b = appendStringField(b, `,"prompt":`, rec.Prompt)
	b = appendIntField(b, `,"prompt_version":`, int64(rec.PromptVersion))
	b = appendIntField(b, `,"release":`, int64(rec.Release))
	if rec.Synthetic {
		b = append(b, `,"synthetic":true`...)
	}
	b = appendStringField(b, `,"probe":`, rec.Probe)
	b = appendStrings(b, `,"flags":[`, rec.Flags)
	return append(b, '}'), nil
}

// appendStrings appends key (which opens the array) and ss as JSON
// strings, or nothing when ss is empty (omitempty).
func appendStrings(b []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return b
	}
	b = append(b, key...)
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s)
	}
	return append(b, ']')
}

func appendAttempt(b []byte, a *Attempt) []byte {
	b = append(b, `{"provider":`...)
	b = jsonenc.AppendString(b, a.Provider)
	b = append(b, `,"upstream_model":`...)
	b = jsonenc.AppendString(b, a.UpstreamModel)
	b = appendStringField(b, `,"key_id":`, a.KeyID)
	b = appendIntField(b, `,"status":`, int64(a.Status))
	b = appendStringField(b, `,"error_type":`, a.ErrorType)
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendInt(b, a.LatencyUS, 10)
	return append(b, '}')
}

// fastEncodable reports whether appendRecord can encode rec itself: the
// time is one that time.Time.MarshalJSON accepts and the cost is finite.
func fastEncodable(rec *Record) bool {
	if math.IsNaN(rec.CostUSD) || math.IsInf(rec.CostUSD, 0) {
		return false
	}
	if y := rec.Time.Year(); y < 0 || y > 9999 {
		return false
	}
	// MarshalJSON refuses zone offsets of 24 hours or more.
	_, offset := rec.Time.Zone()
	return offset > -24*3600 && offset < 24*3600
}

// appendStringField appends key and s unless s is empty (omitempty).
func appendStringField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return jsonenc.AppendString(append(b, key...), s)
}

// appendIntField appends key and n unless n is zero (omitempty).
func appendIntField(b []byte, key string, n int64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), n, 10)
}

// appendFloat formats f as encoding/json does: like ES6's number to string,
// 'f' between 1e-6 and 1e21, else 'e' without a padded exponent.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// lineBufs holds the buffers Record encodes a spilled record into before
// copying it into the spill buffer, so that the encoding is done outside the
// spill lock and allocates nothing.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledLine is the largest line buffer put back into lineBufs: a record
// with two full bodies at the default capture, escaped.
const maxPooledLine = 128 << 10

// decodeLine decodes one spill file line (without its newline).
func decodeLine(line []byte) (Record, error) {
	var rec Record
	err := json.Unmarshal(line, &rec)
	return rec, err
}
