package engine

import (
	"golang.org/x/time/rate"

	"github.com/deckhand-dev/deckhand/internal/hook"
)

// Hook is a loaded hook as the engine runs it.
type Hook struct {
	hook.Hook
	// Lane keeps the queues of one owner apart from the others': with a lane
	// L, a binding's queue "main" runs in engine queue L and queue "q" in
	// "L/q". "" uses the binding's queue names as they are (hooks serve).
	Lane string
	// Module names the module a hook belongs to ("" for hooks serve and
	// global hooks); module-sdk hook binaries get it as MODULE_NAME.
	Module string
	// IO adds the owner's files to every run of the hook and checks and
	// commits what the hook wrote to them; nil adds nothing.
	IO RunIO

	limiter *rate.Limiter
}

// NewHook wraps h for the engine; settings.executionMinInterval and
// executionBurst rate-limit its runs.
func NewHook(h hook.Hook, lane string, io RunIO) *Hook {
	eh := &Hook{Hook: h, Lane: lane, IO: io}
	if st := h.Config.Settings; st != nil && st.ExecutionMinInterval > 0 {
		burst := max(st.ExecutionBurst, 1)
		eh.limiter = rate.NewLimiter(rate.Every(st.ExecutionMinInterval), burst)
	}
	return eh
}

// Queue returns the engine queue a binding queue of h runs in.
func (h *Hook) Queue(name string) string {
	if h.Lane == "" {
		return name
	}
	if name == "" || name == hook.DefaultQueue {
		return h.Lane
	}
	return h.Lane + "/" + name
}

// MainQueue is the engine queue of h's "main" queue.
func (h *Hook) MainQueue() string { return h.Queue(hook.DefaultQueue) }

// RunIO is what an owner adds to a hook's runs beyond shell-operator's files
// (the module runtime: VALUES_PATH in, VALUES_JSON_PATCH_PATH out).
type RunIO interface {
	// Prepare returns the input files of one run (env var name -> content)
	// and the env var names of extra output files.
	Prepare(h *Hook) (inputs map[string][]byte, outputs []string, err error)
	// Check parses and validates a successful run's extra outputs without
	// applying anything. The engine calls commit only once the run's
	// object patches and metrics have been applied; commit must not fail.
	Check(h *Hook, outputs map[string][]byte) (commit func(), err error)
}

// Limiter is the rate limiter of h's runs (nil when unlimited).
func (h *Hook) Limiter() *rate.Limiter { return h.limiter }
