package engine

import (
	"slices"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/queue"
)

// Task kinds the engine handles; Options.Handle gets every other kind.
const (
	KindHookRun          = "HookRun"
	KindEnableKubernetes = "EnableKubernetesBindings"
	KindEnableSchedule   = "EnableScheduleBindings"
	KindWaitSync         = "WaitForSynchronization"
)

// runPayload is the payload of a HookRun task.
type runPayload struct {
	hook *Hook
	// binding labels metrics: the binding of the first context.
	binding  string
	contexts []hook.BindingContext
	// monitorIDs are the watches whose Synchronization this run carries;
	// their events are unlocked after the run succeeds. Kept apart from the
	// contexts because compaction may drop a grouped Synchronization context.
	monitorIDs []string
}

// hookPayload is the payload of the enable tasks.
type hookPayload struct{ hook *Hook }

// waitPayload is the payload of a WaitForSynchronization task.
type waitPayload struct{ monitors []*monitorState }

// RunTask is a HookRun task of h for one binding context.
func RunTask(h *Hook, binding string, allowFailure bool, bc hook.BindingContext, monitorIDs ...string) queue.Task {
	desc := binding
	if bc.Type != "" {
		desc += " " + string(bc.Type)
	}
	if bc.WatchEvent != "" {
		desc += " " + string(bc.WatchEvent)
	}
	return queue.Task{
		Subject:      h.Name,
		Kind:         KindHookRun,
		Description:  desc,
		AllowFailure: allowFailure,
		Payload:      &runPayload{hook: h, binding: binding, contexts: []hook.BindingContext{bc}, monitorIDs: monitorIDs},
	}
}

// EnableKubernetesTask starts h's watches and queues their Synchronization.
func EnableKubernetesTask(h *Hook) queue.Task {
	return queue.Task{Subject: h.Name, Kind: KindEnableKubernetes, Payload: hookPayload{h}}
}

// EnableScheduleTask registers h's schedule bindings.
func EnableScheduleTask(h *Hook) queue.Task {
	return queue.Task{Subject: h.Name, Kind: KindEnableSchedule, Payload: hookPayload{h}}
}

// Combine merges consecutive HookRun tasks of the same hook into one run
// with all their binding contexts, as shell-operator does.
func Combine(head, next queue.Task) (queue.Task, bool) {
	if head.Kind != KindHookRun || next.Kind != KindHookRun || head.Subject != next.Subject {
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

// RunContexts returns the binding contexts a HookRun task carries (nil for
// other kinds); for status and tests.
func RunContexts(t queue.Task) []hook.BindingContext {
	if p, ok := t.Payload.(*runPayload); ok {
		return p.contexts
	}
	return nil
}

func waitTask(h *Hook, monitors []*monitorState) queue.Task {
	return queue.Task{Subject: h.Name, Kind: KindWaitSync, Description: "waitForSynchronization", Payload: waitPayload{monitors}}
}
