package queue

import (
	"math/rand/v2"
	"time"
)

// DefaultBackoff mirrors shell-operator's retry delays: 5s for the first
// retry, then 5s + 2^(n-1)s plus up to 1s of jitter, truncated to 100ms and
// capped at 32s.
func DefaultBackoff(failures int) time.Duration {
	return ExponentialBackoff(5*time.Second, 32*time.Second)(failures)
}

// ExponentialBackoff returns a BackoffFunc that waits initial for the first
// retry, then initial + 2^(n-1) seconds scaled to initial/5s, plus jitter of
// up to a fifth of initial, never more than max.
func ExponentialBackoff(initial, max time.Duration) BackoffFunc {
	return func(failures int) time.Duration {
		if failures <= 1 {
			return min(initial, max)
		}
		exp := failures - 1
		if exp > 30 {
			exp = 30
		}
		// Scale "seconds" so that a small initial delay (tests) keeps the same shape.
		unit := initial / 5
		if unit <= 0 {
			unit = time.Millisecond
		}
		d := initial + time.Duration(1<<exp)*unit
		if jitterMax := int64(unit); jitterMax > 0 {
			d += time.Duration(rand.Int64N(jitterMax))
		}
		if d > max {
			return max
		}
		if unit >= time.Second {
			d = d.Truncate(100 * time.Millisecond)
		}
		return d
	}
}
