package lint

import (
	"encoding/json"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// vpaKey names a VPA target: kind, name and namespace.
type vpaKey struct{ kind, name, ns string }

// vpaInfo is what a module's VPA says about its target.
type vpaInfo struct {
	mode string
	// containers are the resourcePolicy entries; nil when the VPA's own
	// problems were reported and its containers cannot be compared.
	containers map[string]bool
}

// vpaSpec is the part of autoscaling.k8s.io/v1 VerticalPodAutoscaler the rule reads.
type vpaSpec struct {
	UpdatePolicy *struct {
		UpdateMode *string `json:"updateMode"`
	} `json:"updatePolicy"`
	ResourcePolicy *struct {
		ContainerPolicies []struct {
			ContainerName string              `json:"containerName"`
			MinAllowed    corev1.ResourceList `json:"minAllowed"`
			MaxAllowed    corev1.ResourceList `json:"maxAllowed"`
		} `json:"containerPolicies"`
	} `json:"resourcePolicy"`
}

var vpaModes = stringSet("Off", "Initial", "Recreate", "InPlaceOrRecreate", "Auto")

// lintVPA runs templates/vpa: every Deployment, DaemonSet and StatefulSet has
// a VerticalPodAutoscaler whose resourcePolicy bounds each of its containers
// (unless the VPA's updateMode is Off).
func lintVPA(c *collector, s *objectSet) {
	vpas := map[vpaKey]*vpaInfo{}
	for _, o := range s.objs {
		if o.ref.Kind == "VerticalPodAutoscaler" {
			if key, info, ok := parseVPA(c, s, o); ok {
				vpas[key] = info
			}
		}
	}
	for _, o := range s.objs {
		if o.ref.Kind != "Deployment" && o.ref.Kind != "DaemonSet" && o.ref.Kind != "StatefulSet" {
			continue
		}
		info, ok := vpas[vpaKey{o.ref.Kind, o.ref.Name, s.namespaceOf(o)}]
		if !ok {
			c.addProblem(o.problem(LinterTemplates, "vpa", "", "name:", "no VerticalPodAutoscaler targets this %s: add one", o.ref.Kind))
			continue
		}
		if info.mode == "Off" || info.containers == nil {
			continue
		}
		names := map[string]bool{}
		for _, ct := range podContainers(o) {
			names[ct] = true
			if !info.containers[ct] {
				c.addProblem(o.problem(LinterTemplates, "vpa", ct, "name: "+ct, "the VPA has no resourcePolicy.containerPolicies entry for this container"))
			}
		}
		for _, ct := range sortedKeys(info.containers) {
			if !names[ct] {
				c.addProblem(o.problem(LinterTemplates, "vpa", "", "name:", "the VPA has a resourcePolicy entry for container %q, which this %s does not have", ct, o.ref.Kind))
			}
		}
	}
}

func parseVPA(c *collector, s *objectSet, o *renderedObject) (vpaKey, *vpaInfo, bool) {
	add := func(needle, format string, args ...any) {
		c.addProblem(o.problem(LinterTemplates, "vpa", "", needle, format, args...))
	}
	spec, ok := o.raw["spec"].(map[string]any)
	if !ok {
		add("kind:", "VPA has no spec")
		return vpaKey{}, nil, false
	}
	ref, ok := spec["targetRef"].(map[string]any)
	if !ok {
		add("spec:", "VPA has no spec.targetRef")
		return vpaKey{}, nil, false
	}
	key := vpaKey{ns: s.namespaceOf(o)}
	key.kind, _ = ref["kind"].(string)
	key.name, _ = ref["name"].(string)
	info := &vpaInfo{}
	var v vpaSpec
	data, _ := json.Marshal(spec)
	if err := json.Unmarshal(data, &v); err != nil {
		add("spec:", "VPA spec does not decode: %v", err)
		return key, info, true
	}
	if v.UpdatePolicy == nil || v.UpdatePolicy.UpdateMode == nil {
		add("spec:", "VPA has no spec.updatePolicy.updateMode: set one of Off, Initial, Recreate, InPlaceOrRecreate")
		return key, info, true
	}
	info.mode = *v.UpdatePolicy.UpdateMode
	if info.mode == "Off" {
		return key, info, true
	}
	if v.ResourcePolicy == nil || len(v.ResourcePolicy.ContainerPolicies) == 0 {
		add("spec:", "VPA has no spec.resourcePolicy.containerPolicies: bound each container with minAllowed and maxAllowed")
		return key, info, true
	}
	if info.mode == "Auto" {
		add("updateMode", "VPA updateMode Auto is deprecated: use InPlaceOrRecreate")
	} else if !vpaModes[info.mode] {
		add("updateMode", "VPA updateMode %q is not one of Off, Initial, Recreate, InPlaceOrRecreate", info.mode)
	}
	info.containers = map[string]bool{}
	for _, cp := range v.ResourcePolicy.ContainerPolicies {
		ct := cp.ContainerName
		for _, b := range []struct {
			field string
			list  corev1.ResourceList
		}{{"minAllowed", cp.MinAllowed}, {"maxAllowed", cp.MaxAllowed}} {
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q := b.list[r]; q.IsZero() {
					add("containerName: "+ct, "VPA container %q: %s.%s must be set", ct, b.field, r)
				}
			}
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			lo, hi := cp.MinAllowed[r], cp.MaxAllowed[r]
			if lo.Cmp(hi) > 0 {
				add("containerName: "+ct, "VPA container %q: minAllowed.%s is above maxAllowed.%s", ct, r, r)
			}
		}
		info.containers[ct] = true
	}
	return key, info, true
}

// podContainers are the names of the (non-init) containers of a workload.
func podContainers(o *renderedObject) []string {
	var out []string
	list, _ := mapAt(o.raw, "spec", "template", "spec")["containers"].([]any)
	for _, raw := range list {
		ct, _ := raw.(map[string]any)
		if name, ok := ct["name"].(string); ok {
			out = append(out, name)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
