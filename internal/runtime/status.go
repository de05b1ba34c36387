package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
)

// ModuleGVR is deckhouse.io/v1alpha1 Module.
var ModuleGVR = schema.GroupVersionResource{Group: "deckhouse.io", Version: "v1alpha1", Resource: "modules"}

// statusWriter keeps one Module object per module up to date, off the
// modules' lanes: reconciles only mark a module dirty.
type statusWriter struct {
	dyn     dynamic.Interface
	kube    kubernetes.Interface
	enabled bool
	log     *slog.Logger

	mu      sync.Mutex
	dirty   map[string]*moduleState
	written map[string]map[string]any // last status written, by module
	wake    chan struct{}
}

func newStatusWriter(dyn dynamic.Interface, kube kubernetes.Interface, enabled bool, log *slog.Logger) *statusWriter {
	return &statusWriter{dyn: dyn, kube: kube, enabled: enabled, log: log, dirty: map[string]*moduleState{}, written: map[string]map[string]any{}, wake: make(chan struct{}, 1)}
}

func (w *statusWriter) enqueue(s *moduleState) {
	if !w.enabled {
		return
	}
	w.mu.Lock()
	w.dirty[s.mod.Name] = s
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *statusWriter) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		w.mu.Lock()
		batch := w.dirty
		w.dirty = map[string]*moduleState{}
		w.mu.Unlock()
		for _, s := range batch {
			if err := w.write(ctx, s); err != nil && ctx.Err() == nil {
				w.log.Warn("writing Module status; retrying", "module", s.mod.Name, "error", err)
				w.mu.Lock()
				if _, again := w.dirty[s.mod.Name]; !again {
					w.dirty[s.mod.Name] = s
				}
				w.mu.Unlock()
				time.AfterFunc(2*time.Second, func() {
					select {
					case w.wake <- struct{}{}:
					default:
					}
				})
			}
		}
	}
}

// write creates the Module object when missing and updates its status
// when it changed since the last write.
func (w *statusWriter) write(ctx context.Context, s *moduleState) error {
	st := s.snapshotStatus()
	status := moduleStatusObject(st, w.previousConditions(s.mod.Name))
	w.mu.Lock()
	same := reflect.DeepEqual(w.written[s.mod.Name], status)
	w.mu.Unlock()
	if same {
		return nil
	}
	client := w.dyn.Resource(ModuleGVR)
	obj, err := client.Get(ctx, s.mod.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		obj, err = client.Create(ctx, moduleObject(s), metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	obj.Object["status"] = withForeignConditions(status, obj)
	if _, err := client.UpdateStatus(ctx, obj, metav1.UpdateOptions{}); err != nil {
		return err
	}
	w.mu.Lock()
	w.written[s.mod.Name] = status
	w.mu.Unlock()
	return nil
}

// withForeignConditions keeps the conditions of obj's status that the
// runtime does not own (an operator's LastReleaseDeployed, IsOverridden)
// in the status about to be written.
func withForeignConditions(status map[string]any, obj *unstructured.Unstructured) map[string]any {
	old, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	if len(old) == 0 {
		return status
	}
	out := make(map[string]any, len(status))
	for k, v := range status {
		out[k] = v
	}
	conds, _ := out["conditions"].([]any)
	conds = append([]any(nil), conds...)
	for _, c := range old {
		cm, _ := c.(map[string]any)
		switch cm["type"] {
		case v1alpha1.ModuleConditionEnabledByModuleManager, v1alpha1.ModuleConditionIsReady, nil:
			continue
		}
		conds = append(conds, c)
	}
	out["conditions"] = conds
	return out
}

func (w *statusWriter) previousConditions(name string) []any {
	w.mu.Lock()
	defer w.mu.Unlock()
	if prev := w.written[name]; prev != nil {
		c, _ := prev["conditions"].([]any)
		return c
	}
	return nil
}

// moduleObject is a new Module object: DKP's properties from module.yaml.
func moduleObject(s *moduleState) *unstructured.Unstructured {
	m := s.mod
	props := map[string]any{
		"weight": int64(m.Weight),
		"source": "Embedded",
	}
	labels := map[string]any{}
	annotations := map[string]any{}
	if d := m.Definition; d != nil {
		if d.Stage != "" {
			props["stage"] = d.Stage
		}
		if d.Namespace != "" {
			props["namespace"] = d.Namespace
		}
		if d.Critical {
			props["critical"] = true
		}
		if len(d.Subsystems) > 0 {
			props["subsystems"] = toAnySlice(d.Subsystems)
		}
		if d.ExclusiveGroup != "" {
			props["exclusiveGroup"] = d.ExclusiveGroup
		}
		for _, t := range d.Tags {
			labels["module.deckhouse.io/"+t] = ""
		}
		if d.Descriptions.En != "" {
			annotations["en.meta.deckhouse.io/description"] = d.Descriptions.En
		}
		if d.Descriptions.Ru != "" {
			annotations["ru.meta.deckhouse.io/description"] = d.Descriptions.Ru
		}
	}
	meta := map[string]any{"name": m.Name}
	if len(labels) > 0 {
		meta["labels"] = labels
	}
	if len(annotations) > 0 {
		meta["annotations"] = annotations
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "deckhouse.io/v1alpha1",
		"kind":       "Module",
		"metadata":   meta,
		"properties": props,
	}}
}

// moduleStatusObject renders the status with DKP's conditions
// (EnabledByModuleManager, IsReady) and deckhand's error and checksums.
// A condition's lastTransitionTime moves only when its status changes.
func moduleStatusObject(st moduleStatus, prev []any) map[string]any {
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	cond := func(typ string, ok bool, reason, msg string) v1alpha1.ModuleCondition {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		c := v1alpha1.ModuleCondition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: now}
		for _, p := range prev {
			pm, _ := p.(map[string]any)
			if pm == nil || pm["type"] != typ || pm["status"] != string(status) {
				continue
			}
			if ts, _ := pm["lastTransitionTime"].(string); ts != "" {
				if t, err := time.Parse(time.RFC3339, ts); err == nil {
					c.LastTransitionTime = metav1.NewTime(t)
				}
			}
		}
		return c
	}
	readyReason, readyMsg := "", ""
	switch {
	case st.Error != "":
		readyReason, readyMsg = "ModuleError", st.Error
		if st.ErrorSource != "" && !isModuleStep(st.ErrorSource) {
			readyReason = "HookError"
		}
	case !st.Enabled:
		readyReason, readyMsg = "Disabled", "disabled"
	case !st.Ready:
		readyReason, readyMsg = "Reconciling", "reconciling"
	}
	out := v1alpha1.ModuleStatus{
		Phase: st.Phase,
		Conditions: []v1alpha1.ModuleCondition{
			cond(v1alpha1.ModuleConditionEnabledByModuleManager, st.Enabled, st.EnabledReason, st.EnabledMessage),
			cond(v1alpha1.ModuleConditionIsReady, st.Ready, readyReason, readyMsg),
		},
		ValuesChecksum:  st.ValuesChecksum,
		ReleaseRevision: st.Revision,
	}
	if st.Error != "" {
		e := &v1alpha1.ModuleError{Message: st.Error}
		switch {
		case st.ErrorSource == "helm":
			e.Template = templateOf(st.Error)
		case !isModuleStep(st.ErrorSource):
			e.Hook = st.ErrorSource
		}
		out.LastError = e
	}
	m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(&out)
	if err != nil {
		return map[string]any{"phase": st.Phase}
	}
	return m
}

// isModuleStep is true for the steps that are not hooks.
func isModuleStep(step string) bool {
	switch step {
	case "helm", "values", "crds", "hooks", "settings", "namespace", "module":
		return true
	}
	return false
}

// templateOf picks the template file Helm names in a render error
// ("template: greeter/templates/cm.yaml:3:10: ...").
func templateOf(msg string) string {
	const marker = "templates/"
	i := strings.Index(msg, marker)
	if i < 0 {
		return "helm"
	}
	start := strings.LastIndexAny(msg[:i], " :\"\t(") + 1
	end := i + strings.IndexAny(msg[i:]+":", ": \")\"")
	return msg[start:end]
}

// configStatus writes a ModuleConfig's status: the settings version in use
// and a message ("" when the settings were taken). Entries from the
// ConfigMap have no status to write; their errors are logged.
func (w *statusWriter) configStatus(name string, mc ModuleConfig, version int, err error) {
	if !w.enabled || len(mc.From) < len("ModuleConfig") || mc.From[:len("ModuleConfig")] != "ModuleConfig" {
		return
	}
	status := map[string]any{"version": fmt.Sprint(version), "message": ""}
	if err != nil {
		status["message"] = "Error: " + err.Error()
		delete(status, "version")
	}
	patch, _ := json.Marshal(map[string]any{"status": status})
	// Called from the config informer's handler: a short, bounded write.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj, perr := w.dyn.Resource(ModuleConfigGVR).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	if perr != nil && !apierrors.IsNotFound(perr) {
		w.log.Warn("writing ModuleConfig status", "moduleconfig", name, "error", perr)
	}
	if err != nil && obj != nil && w.kube != nil {
		w.event(ctx, obj, "SettingsRefused", err.Error())
	}
}

// event records a Warning Event on a cluster-scoped object (in "default",
// where kubectl describe looks for them).
func (w *statusWriter) event(ctx context.Context, obj *unstructured.Unstructured, reason, msg string) {
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: obj.GetName() + ".", Namespace: metav1.NamespaceDefault},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Name: obj.GetName(), UID: obj.GetUID(),
		},
		Reason: reason, Message: msg, Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "deckhand"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	if _, err := w.kube.CoreV1().Events(metav1.NamespaceDefault).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		w.log.Warn("recording an event", "object", obj.GetName(), "error", err)
	}
}

// flush writes every pending Module status now (RunOnce, before exit).
func (w *statusWriter) flush(ctx context.Context) {
	w.mu.Lock()
	batch := w.dirty
	w.dirty = map[string]*moduleState{}
	w.mu.Unlock()
	for _, s := range batch {
		if err := w.write(ctx, s); err != nil {
			w.log.Warn("writing Module status", "module", s.mod.Name, "error", err)
		}
	}
}
