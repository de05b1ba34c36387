// Package bench holds deckhand's benchmarks. Each one measures deckhand next to
// the floor named by its issue (a raw client-go informer, the crane API) in the
// same run, because these machines are shared and noisy: compare ratios, not
// absolute figures. Run them with `make bench`; figures go to RESULTS.md.
package bench

import (
	"testing"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestMain stops the shared control plane and registry after the benchmarks.
func TestMain(m *testing.M) { testenv.Main(m) }
