package moduletest

import (
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func TestMain(m *testing.M) {
	// Stopped watches are reported by client-go through klog; keep the
	// test output readable.
	klog.SetLogger(logr.Discard())
	testenv.Main(m)
}
