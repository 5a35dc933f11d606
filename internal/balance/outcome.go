package balance

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"

	"github.com/valyala/fasthttp"
)

// Outcome is what became of one attempt, in the terms that decide what the
// gateway does next: stop, try again, or try elsewhere.
type Outcome uint8

// The outcomes of an attempt.
const (
	// Success is any answer below 400. The upstream did its job, so the
	// answer goes to the client.
	Success Outcome = iota
	// ClientError is a 4xx other than 401, 402, 403, 408, 409 and 429: the
	// request itself is at fault, and no other target or model would
	// accept it either.
	ClientError
	// RateLimited is a 429.
	RateLimited
	// ServerError is a 5xx, or a 409: the official OpenAI and Anthropic
	// SDKs retry 409 as a transient conflict (a lock timeout upstream).
	ServerError
	// Timeout is an attempt that ran out of time, or a 408.
	Timeout
	// ConnectionError is a transport failure: refused, reset or closed
	// connections, DNS and TLS failures, or no response at all.
	ConnectionError
	// KeyRejected is a 401, 402 or 403 from the upstream. The client's
	// request is not at fault: the gateway's own key or account with that
	// provider is invalid, out of credit or not entitled, so another key,
	// target or model may well answer.
	KeyRejected
	// Canceled is a client that went away: nothing more is worth doing.
	Canceled
	// Unsupported is a target that cannot take this request at all — its
	// API has no way to express it (an operation the provider lacks, a
	// field its format cannot carry). Another target may, so the call moves
	// on; but the target is not failing, so neither its breaker nor its
	// latency estimate counts it.
	Unsupported

	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	Success:         "success",
	ClientError:     "client_error",
	RateLimited:     "rate_limited",
	ServerError:     "server_error",
	Timeout:         "timeout",
	ConnectionError: "connection_error",
	KeyRejected:     "key_rejected",
	Canceled:        "canceled",
	Unsupported:     "unsupported",
}

// String returns the outcome's name as used in the configuration's retry_on
// list, in call records and in metrics labels.
func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// ParseOutcome is the inverse of String.
func ParseOutcome(s string) (Outcome, bool) {
	for o, name := range outcomeNames {
		if name == s {
			return Outcome(o), true
		}
	}
	return 0, false
}

// Retryable reports whether the same target, asked again after a pause, may
// answer: the failure is transient.
func (o Outcome) Retryable() bool {
	switch o {
	case RateLimited, ServerError, Timeout, ConnectionError:
		return true
	}
	return false
}

// Fallback reports whether another target or model may answer where this
// one failed. It is true for every retryable outcome and for KeyRejected and
// Unsupported, which asking the same target again would only repeat.
func (o Outcome) Fallback() bool { return o.Retryable() || o == KeyRejected || o == Unsupported }

// OutcomeSet is a set of outcomes, such as the ones a policy retries on.
type OutcomeSet uint16

// NewOutcomeSet returns the set of the given outcomes.
func NewOutcomeSet(os ...Outcome) OutcomeSet {
	var s OutcomeSet
	for _, o := range os {
		s |= 1 << o
	}
	return s
}

// DefaultRetryOn is every outcome that a retry may cure.
var DefaultRetryOn = NewOutcomeSet(ServerError, RateLimited, Timeout, ConnectionError)

// Has reports whether o is in s.
func (s OutcomeSet) Has(o Outcome) bool { return o < numOutcomes && s&(1<<o) != 0 }

// Classify turns the result of one upstream exchange into an Outcome: the
// HTTP status when a response arrived (err nil), else the transport error.
// Errors are matched with errors.Is and errors.As, so wrapped errors are
// classified by their cause.
func Classify(status int, err error) Outcome {
	if err != nil {
		return classifyError(err)
	}
	switch {
	case status <= 0:
		// No error and no status: nothing came back.
		return ConnectionError
	case status < 400:
		return Success
	case status == 408:
		return Timeout
	case status == 429:
		return RateLimited
	case status == 401, status == 402, status == 403:
		return KeyRejected
	case status == 409, status >= 500:
		return ServerError
	}
	return ClientError
}

func classifyError(err error) Outcome {
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, fasthttp.ErrTimeout),
		errors.Is(err, fasthttp.ErrDialTimeout),
		errors.Is(err, fasthttp.ErrTLSHandshakeTimeout):
		return Timeout
	}
	// fasthttp.ErrTimeout and net's timeouts both say so through Timeout();
	// a connection refused or reset does not, whatever else it wraps.
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return Timeout
	}
	if errors.Is(err, syscall.ETIMEDOUT) {
		return Timeout
	}
	// Everything else means the exchange did not complete: refused, reset,
	// aborted or closed connections (ECONNREFUSED, ECONNRESET, EPIPE,
	// io.ErrUnexpectedEOF, fasthttp.ErrConnectionClosed), DNS and TLS
	// failures, a full connection pool. None of them is the client's doing,
	// so all of them may be tried elsewhere.
	return ConnectionError
}
