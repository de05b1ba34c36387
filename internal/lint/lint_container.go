package lint

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

var deprecatedAPIVersions = map[string]string{
	"extensions/v1beta1":                   "apps/v1 or networking.k8s.io/v1",
	"apps/v1beta1":                         "apps/v1",
	"apps/v1beta2":                         "apps/v1",
	"rbac.authorization.k8s.io/v1beta1":    "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1alpha1":   "rbac.authorization.k8s.io/v1",
	"networking.k8s.io/v1beta1":            "networking.k8s.io/v1",
	"policy/v1beta1":                       "policy/v1",
	"batch/v1beta1":                        "batch/v1",
	"admissionregistration.k8s.io/v1beta1": "admissionregistration.k8s.io/v1",
	"apiextensions.k8s.io/v1beta1":         "apiextensions.k8s.io/v1",
	"autoscaling/v2beta1":                  "autoscaling/v2",
	"autoscaling/v2beta2":                  "autoscaling/v2",
	"storage.k8s.io/v1beta1":               "storage.k8s.io/v1",
	"scheduling.k8s.io/v1beta1":            "scheduling.k8s.io/v1",
	"certificates.k8s.io/v1beta1":          "certificates.k8s.io/v1",
	"coordination.k8s.io/v1beta1":          "coordination.k8s.io/v1",
	"discovery.k8s.io/v1beta1":             "discovery.k8s.io/v1",
	"events.k8s.io/v1beta1":                "events.k8s.io/v1",
	"node.k8s.io/v1beta1":                  "node.k8s.io/v1",
}

var priorityClasses = map[string]bool{
	"system-node-critical": true, "system-cluster-critical": true, "cluster-critical": true, "cluster-medium": true,
	"cluster-low": true, "production-high": true, "production-medium": true, "production-low": true,
	"staging": true, "develop": true, "standby": true,
}

// podSpecPath is where each workload kind keeps its pod spec.
var podSpecPath = map[string][]string{
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
	"Pod":         {"spec"},
}

// lintObject runs dmt's container linter rules on one rendered object.
func lintObject(c *collector, o *renderedObject, apiVersion string) {
	meta, _ := o.raw["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	for _, l := range []string{"module", "heritage"} {
		if _, ok := labels[l]; !ok {
			c.addProblem(o.problem(LinterContainer, "object-recommended-labels", "", "labels:", "label %q is missing (objects carry module and heritage labels)", l))
		}
	}
	lintAPIVersion(c, o, apiVersion)
	if o.ref.Kind == "Service" {
		lintService(c, o)
	}
	path, workload := podSpecPath[o.ref.Kind]
	if !workload {
		return
	}
	if o.ref.Kind == "Deployment" {
		spec, _ := o.raw["spec"].(map[string]any)
		if v, ok := spec["revisionHistoryLimit"].(float64); !ok || v > 2 {
			c.addProblem(o.problem(LinterContainer, "object-revision-history-limit", "", "revisionHistoryLimit", "spec.revisionHistoryLimit must be set to 2 or less"))
		}
	}
	var node any = o.raw
	for _, p := range path {
		m, _ := node.(map[string]any)
		node = m[p]
	}
	data, _ := json.Marshal(node)
	spec := &corev1.PodSpec{}
	if err := json.Unmarshal(data, spec); err != nil {
		c.addProblem(o.problem(LinterTemplates, "helm-render", "", "spec:", "pod spec does not decode: %v", err))
		return
	}
	lintPodSpec(c, o, spec)
}

func lintPodSpec(c *collector, o *renderedObject, spec *corev1.PodSpec) {
	// As dmt: the workloads that run for the module's life (Deployment,
	// DaemonSet, StatefulSet) name one of DKP's priority classes.
	switch o.ref.Kind {
	case "Deployment", "DaemonSet", "StatefulSet":
		switch {
		case spec.PriorityClassName == "":
			c.addProblem(o.problem(LinterContainer, "object-priority-class", "", "spec:", "priorityClassName is empty: set one of DKP's priority classes (e.g. cluster-low, or helm_lib_priority_class)"))
		case !priorityClasses[spec.PriorityClassName]:
			c.addProblem(o.problem(LinterContainer, "object-priority-class", "", "priorityClassName", "priorityClassName %q is not one of DKP's priority classes", spec.PriorityClassName))
		}
	}
	if spec.HostNetwork && spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		c.addProblem(o.problem(LinterContainer, "dns-policy", "", "hostNetwork", "hostNetwork: true needs dnsPolicy: ClusterFirstWithHostNet"))
	}
	lintPodSecurityContext(c, o, spec.SecurityContext)
	seen := map[string]bool{}
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for i, ct := range all {
		if seen[ct.Name] {
			c.addProblem(o.problem(LinterContainer, "name-duplicates", ct.Name, "name: "+ct.Name, "container name is used twice"))
		}
		seen[ct.Name] = true
		lintContainer(c, o, spec, ct, i < len(spec.InitContainers))
	}
}

func lintPodSecurityContext(c *collector, o *renderedObject, sc *corev1.PodSecurityContext) {
	if sc == nil {
		c.addProblem(o.problem(LinterContainer, "controller-security-context", "", "spec:", "pod securityContext is missing (runAsNonRoot, runAsUser, runAsGroup)"))
		return
	}
	if sc.RunAsNonRoot == nil || sc.RunAsUser == nil || sc.RunAsGroup == nil {
		c.addProblem(o.problem(LinterContainer, "controller-security-context", "", "securityContext:", "pod securityContext must set runAsNonRoot, runAsUser and runAsGroup"))
		return
	}
	uid, gid := *sc.RunAsUser, *sc.RunAsGroup
	if *sc.RunAsNonRoot {
		nobody := uid == 65534 && gid == 65534
		deckhouse := uid == 64535 && gid == 64535
		if !nobody && !deckhouse {
			c.addProblem(o.problem(LinterContainer, "controller-security-context", "", "runAsUser", "a non-root pod runs as 65534:65534 (nobody) or 64535:64535 (deckhouse), got %d:%d", uid, gid))
		}
	} else if uid != 0 || gid != 0 {
		c.addProblem(o.problem(LinterContainer, "controller-security-context", "", "runAsUser", "runAsNonRoot: false means root: runAsUser and runAsGroup must be 0, got %d:%d", uid, gid))
	}
}

func lintContainer(c *collector, o *renderedObject, spec *corev1.PodSpec, ct corev1.Container, init bool) {
	add := func(rule, needle, format string, args ...any) {
		c.addProblem(o.problem(LinterContainer, rule, ct.Name, needle, format, args...))
	}
	envSeen := map[string]bool{}
	for _, e := range ct.Env {
		if envSeen[e.Name] {
			add("env-variables-duplicates", "name: "+e.Name, "environment variable %s is set twice", e.Name)
		}
		envSeen[e.Name] = true
	}
	if ct.ImagePullPolicy != "" && ct.ImagePullPolicy != corev1.PullIfNotPresent {
		add("image-pull-policy", "imagePullPolicy", "imagePullPolicy must be unset or IfNotPresent, got %s", ct.ImagePullPolicy)
	}
	if q, ok := ct.Resources.Requests[corev1.ResourceEphemeralStorage]; !ok || q.Sign() <= 0 {
		add("resources", "resources:", "resources.requests.ephemeral-storage must be set")
	}
	sc := ct.SecurityContext
	if sc == nil {
		add("security-context", "name: "+ct.Name, "container securityContext is missing")
	} else {
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			add("read-only-root-filesystem", "securityContext:", "securityContext.readOnlyRootFilesystem must be true")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			add("no-new-privileges", "securityContext:", "securityContext.allowPrivilegeEscalation must be false")
		}
		if sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
			add("seccomp-profile", "seccompProfile", "seccompProfile must not be Unconfined")
		}
	}
	if sc == nil || sc.SeccompProfile == nil {
		if spec.SecurityContext == nil || spec.SecurityContext.SeccompProfile == nil {
			add("seccomp-profile", "securityContext:", "no seccompProfile on the container or the pod (use RuntimeDefault)")
		} else if spec.SecurityContext.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
			add("seccomp-profile", "seccompProfile", "pod seccompProfile must not be Unconfined")
		}
	}
	for _, p := range ct.Ports {
		if p.ContainerPort <= 1024 {
			add("ports", fmt.Sprintf("%d", p.ContainerPort), "containerPort %d must be above 1024 (non-root containers cannot bind it)", p.ContainerPort)
		}
	}
	if init || o.ref.Kind == "Job" || o.ref.Kind == "CronJob" || o.ref.Kind == "Pod" {
		return
	}
	lintProbe(add, "liveness-probe", "livenessProbe", ct.LivenessProbe)
	lintProbe(add, "readiness-probe", "readinessProbe", ct.ReadinessProbe)
}

func lintProbe(add func(rule, needle, format string, args ...any), rule, field string, p *corev1.Probe) {
	if p == nil {
		add(rule, "name:", "%s is missing", field)
		return
	}
	var handlers []string
	if p.Exec != nil {
		handlers = append(handlers, "exec")
	}
	if p.HTTPGet != nil {
		handlers = append(handlers, "httpGet")
	}
	if p.TCPSocket != nil {
		handlers = append(handlers, "tcpSocket")
	}
	if p.GRPC != nil {
		handlers = append(handlers, "grpc")
	}
	if len(handlers) != 1 {
		add(rule, field, "%s must have exactly one handler, has %d (%s)", field, len(handlers), strings.Join(handlers, ", "))
	}
}

// lintService runs templates/service-port: Service ports target a named container port.
func lintService(c *collector, o *renderedObject) {
	spec, _ := o.raw["spec"].(map[string]any)
	ports, _ := spec["ports"].([]any)
	for _, p := range ports {
		pm, _ := p.(map[string]any)
		name, _ := pm["name"].(string)
		if _, isName := pm["targetPort"].(string); !isName {
			pr := o.problem(LinterTemplates, "service-port", "", "targetPort", "port %q: targetPort must name a container port, got %v", name, pm["targetPort"])
			c.addProblem(pr)
		}
	}
}
