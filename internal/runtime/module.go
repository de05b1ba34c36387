package runtime

import (
	"sync"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/module"
)

// Module phases shown in the Module object's status.phase (DKP's names).
const (
	PhaseAvailable   = "Available"
	PhaseInstalling  = "Installing"
	PhaseReconciling = "Reconciling"
	PhaseReady       = "Ready"
	PhaseError       = "Error"
)

// moduleState is one discovered module and what the runtime keeps of it.
// Fields below mu change while the module's lane runs; the rest is fixed
// once discovered.
type moduleState struct {
	mod    *module.Module
	lane   string
	broken bool // failed to load: shown, never run
	vals   *moduleValues

	mu         sync.Mutex
	hooks      []*engine.Hook // loaded on first enable
	plain      []*hook.Hook
	byName     map[string]*engine.Hook
	started    bool // onStartup done, watches synced, schedules on
	desired    bool // enabled by the last enablement pass
	decided    bool // the enablement pass has judged it
	active     bool // hooks loaded or a release installed: must be torn down when disabled
	queued     bool // a reconcile is queued and has not started yet
	inConverge bool // values changes are absorbed: helm runs next anyway
	attempted  chan struct{}
	attempts   int // reconcile attempts finished
	status     moduleStatus
}

// moduleStatus is what the Module object shows.
type moduleStatus struct {
	Phase          string
	Enabled        bool
	EnabledReason  string // which source decided (ModuleConfig, Bundle, EnabledScript, ...)
	EnabledMessage string
	Ready          bool
	ErrorSource    string // hook or template that failed
	Error          string
	ValuesChecksum string
	Revision       int
	Failures       int
}

func newModuleState(m *module.Module, vals *moduleValues) *moduleState {
	return &moduleState{mod: m, lane: "module/" + m.Name, vals: vals, attempted: make(chan struct{}), status: moduleStatus{Phase: PhaseAvailable}}
}

// attemptDone wakes everyone waiting for the module's next reconcile attempt.
func (s *moduleState) attemptDone() {
	s.mu.Lock()
	s.attempts++
	close(s.attempted)
	s.attempted = make(chan struct{})
	s.mu.Unlock()
}

func (s *moduleState) nextAttempt() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempted
}

func (s *moduleState) snapshotStatus() moduleStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *moduleState) setStatus(f func(*moduleStatus)) {
	s.mu.Lock()
	f(&s.status)
	s.mu.Unlock()
}
