package hookserver

import (
	"slices"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/queue"
)

// Task kinds in the queues.
const (
	kindHookRun          = "HookRun"
	kindEnableKubernetes = "EnableKubernetesBindings"
	kindEnableSchedule   = "EnableScheduleBindings"
	kindWaitSync         = "WaitForSynchronization"
	kindStarted          = "StartupDone"
)

// runPayload is the payload of a HookRun task.
type runPayload struct {
	hook *hookState
	// binding labels metrics: the binding of the first context.
	binding  string
	contexts []hook.BindingContext
	// monitorIDs are the watches whose Synchronization this run carries;
	// their events are unlocked after the run succeeds. Kept apart from the
	// contexts because compaction may drop a grouped Synchronization context.
	monitorIDs []string
}

// hookPayload is the payload of the enable tasks.
type hookPayload struct{ hook *hookState }

// waitPayload is the payload of a WaitForSynchronization task.
type waitPayload struct{ monitors []*monitorState }

func runTask(h *hookState, binding string, allowFailure bool, bc hook.BindingContext, monitorIDs ...string) queue.Task {
	desc := binding
	if bc.Type != "" {
		desc += " " + string(bc.Type)
	}
	if bc.WatchEvent != "" {
		desc += " " + string(bc.WatchEvent)
	}
	return queue.Task{
		Hook:         h.Name,
		Kind:         kindHookRun,
		Description:  desc,
		AllowFailure: allowFailure,
		Payload:      &runPayload{hook: h, binding: binding, contexts: []hook.BindingContext{bc}, monitorIDs: monitorIDs},
	}
}

// combineRuns merges consecutive HookRun tasks of the same hook into one run
// with all their binding contexts, as shell-operator does.
func combineRuns(head, next queue.Task) (queue.Task, bool) {
	if head.Kind != kindHookRun || next.Kind != kindHookRun || head.Hook != next.Hook {
		return head, false
	}
	hp, np := head.Payload.(*runPayload), next.Payload.(*runPayload)
	if len(hp.contexts) == 0 || !hook.CanStartCombine(hp.hook.Config.Version, hp.contexts[0]) {
		return head, false
	}
	merged := &runPayload{
		hook:       hp.hook,
		binding:    hp.binding,
		contexts:   hook.Combine(hp.contexts, np.contexts),
		monitorIDs: append(slices.Clone(hp.monitorIDs), np.monitorIDs...),
	}
	head.Payload = merged
	// The merged run may only fail silently when every part may: otherwise
	// a dropped failure would lose the events of a non-allowFailure binding.
	head.AllowFailure = head.AllowFailure && next.AllowFailure
	if next.Description != head.Description {
		head.Description = "combined"
	}
	return head, true
}

func queueTaskWait(h *hookState, monitors []*monitorState) queue.Task {
	return queue.Task{Hook: h.Name, Kind: kindWaitSync, Description: "waitForSynchronization", Payload: waitPayload{monitors}}
}
