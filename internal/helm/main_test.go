package helm

import (
	"testing"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestMain stops the control plane testenv shares between this package's tests.
func TestMain(m *testing.M) { testenv.Main(m) }
