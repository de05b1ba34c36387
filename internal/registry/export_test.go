package registry

import (
	"context"
	"time"
)

// SwapDirWith exposes swapDirWith to the external tests.
var SwapDirWith = swapDirWith

// WithSleep replaces how the client waits between attempts, so tests can
// record the waits (Retry-After, backoff) instead of spending them.
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(o *clientOptions) { o.sleep = f }
}
