package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// How retries are bounded. go-containerregistry's retrying transport (given
// the client's backoff) repeats a request that failed before its response
// arrived, or that got 408/429/5xx, at most backoff.Steps times. It does not
// read Retry-After, and it cannot repeat a blob download that breaks off in
// the middle of the body: retryAfterTransport and fetchBlob fill those gaps,
// each within the same number of attempts, so a pull's waiting is bounded by
// steps x (largest backoff step + maxRetryAfter) per request.

// maxRetryAfter caps the wait a registry may ask for with Retry-After: a
// larger value is shortened to it rather than trusted (a misconfigured proxy
// answering "Retry-After: 86400" must not park a pull for a day).
const maxRetryAfter = 30 * time.Second

// sleepFunc waits d or until ctx ends; tests replace it to record the waits
// instead of spending them.
type sleepFunc func(ctx context.Context, d time.Duration) error

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAfterTransport makes two registry faults retryable by the transport
// above it. It honours Retry-After on 429 and 503 answers: it waits
// what the registry asked for (at most maxRetryAfter) before handing the
// answer up to go-containerregistry's retrying transport, which then retries
// it after its own, usually shorter, backoff step.
type retryAfterTransport struct {
	next  http.RoundTripper
	sleep sleepFunc
}

func (t retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && req.Context().Err() == nil {
			// A registry that stopped answering (the response timeout, not
			// the caller's deadline): reported as temporary so the retrying
			// transport above tries again. The timeout error of net/http
			// also matches context.DeadlineExceeded, which that transport
			// takes for "the caller gave up" and never retries.
			return nil, stalledError{msg: err.Error()}
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return resp, nil
	}
	d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if !ok {
		return resp, nil
	}
	if d > maxRetryAfter {
		d = maxRetryAfter
	}
	if serr := t.sleep(req.Context(), d); serr != nil {
		_ = resp.Body.Close()
		return nil, serr
	}
	return resp, nil
}

// stalledError is a request the registry did not answer in time.
type stalledError struct{ msg string }

func (e stalledError) Error() string   { return e.msg }
func (e stalledError) Timeout() bool   { return true }
func (e stalledError) Temporary() bool { return true }

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		d := at.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// retryable reports whether err is a transfer that broke off (a reset or
// closed connection, a body cut short, a timeout), worth downloading again.
// Content that arrived whole but is wrong (digest or size mismatch) is not.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// withRetries runs f until it succeeds, fails with an error retryable does not
// accept, or backoff.Steps attempts are spent, waiting a backoff step between
// attempts. It returns the last error.
func withRetries(ctx context.Context, b remote.Backoff, sleep sleepFunc, f func() error) error {
	attempts := b.Steps
	if attempts < 1 {
		attempts = 1
	}
	var err error
	for i := range attempts {
		if i > 0 {
			if serr := sleep(ctx, b.Step()); serr != nil {
				return err
			}
		}
		if err = f(); !retryable(err) {
			return err
		}
	}
	return err
}
