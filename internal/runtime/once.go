package runtime

import (
	"context"
	"fmt"
)

// ModuleSummary is one module's state after a converge.
type ModuleSummary struct {
	Name     string `json:"name"`
	Weight   uint32 `json:"weight"`
	Enabled  bool   `json:"enabled"`
	Reason   string `json:"reason,omitempty"`
	Phase    string `json:"phase"`
	Revision int    `json:"revision,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Summary is the result of RunOnce.
type Summary struct {
	Modules []ModuleSummary `json:"modules"`
	// Failed counts modules enabled but not converged.
	Failed int `json:"failed"`
}

// RunOnce runs the global startup, one converge pass over every module
// (each module gets one attempt, no retries) and stops: `deckhand run
// --once`, for CI and scripts. The error is nil even when modules failed:
// the summary says which.
func (r *Runtime) RunOnce(ctx context.Context) (*Summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.once = true
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	defer r.engine.Stop()
	if err := r.convergeOnce(ctx, "once"); err != nil {
		return nil, fmt.Errorf("converge: %w", err)
	}
	sum := &Summary{}
	for _, s := range r.orderedModules() {
		st := s.snapshotStatus()
		ms := ModuleSummary{Name: s.mod.Name, Weight: s.mod.Weight, Enabled: st.Enabled, Reason: st.EnabledReason, Phase: st.Phase, Revision: st.Revision, Error: st.Error}
		if (st.Enabled && st.Phase != PhaseReady) || s.broken {
			sum.Failed++
		}
		sum.Modules = append(sum.Modules, ms)
	}
	// Write the Module objects before leaving.
	r.status.flush(ctx)
	return sum, nil
}
