package lint

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// The container linter rules that need the whole set of rendered objects or
// the module directory, besides the per-object ones in lint_container.go.

// hostPortKinds are the kinds dmt's host-network-ports and sys-cgroup-mount
// rules look at (a ReplicaSet is not among them).
var hostPortKinds = stringSet("Deployment", "DaemonSet", "StatefulSet", "Pod", "Job", "CronJob")

// builtinMountPaths are host paths every Linux node has, so mount-points.yaml
// need not declare them.
var builtinMountPaths = stringSet("/sys", "/sys/fs/cgroup", "/dev", "/proc", "/tmp")

// moduleImageLine finds the image name passed to helm_lib_module_image on a
// template line: the last quoted argument, in both the `. "name"` and the
// `(list . "name")` call forms.
var moduleImageLine = regexp.MustCompile(`image:.*helm_lib_module_image.*"([^"]+)"[^"]*$`)

// lintContainerModule runs the container rules that look beyond one object:
// object-namespace-labels, and the per-container rules host-network-ports,
// image-digest, container-image-name, sys-cgroup-mount and mount-points.
func lintContainerModule(c *collector, m *module.Module, objs []*renderedObject) {
	declared := mountPointsDeclared(m.Dir)
	imageLinesSeen := map[string]bool{}
	for _, o := range objs {
		if o.ref.Kind == "Namespace" {
			lintNamespaceLabels(c, o, objs)
		}
		spec := podSpecOf(o)
		if spec == nil {
			continue
		}
		all := append(append([]corev1.Container{}, spec.Containers...), spec.InitContainers...)
		if len(all) == 0 {
			continue
		}
		lintImageNames(c, o, imageLinesSeen)
		for _, ct := range all {
			if hostPortKinds[o.ref.Kind] {
				lintHostNetworkPorts(c, o, spec, ct)
				lintSysCgroupMount(c, o, ct)
			}
			lintImageDigest(c, o, ct)
			if declared != nil && isPodController(o.ref.Kind) {
				lintMountPaths(c, o, ct, declared)
			}
		}
	}
}

// isPodController is dmt's narrower set of controllers for mount-point rules.
func isPodController(kind string) bool {
	return kind == "Deployment" || kind == "DaemonSet" || kind == "StatefulSet"
}

// podSpecOf decodes the pod spec of a workload, nil for other kinds or a spec
// that does not decode (lintObject reports that one).
func podSpecOf(o *renderedObject) *corev1.PodSpec {
	path, ok := podSpecPath[o.ref.Kind]
	if !ok {
		return nil
	}
	var node any = o.raw
	for _, p := range path {
		m, _ := node.(map[string]any)
		node = m[p]
	}
	data, _ := json.Marshal(node)
	spec := &corev1.PodSpec{}
	if json.Unmarshal(data, spec) != nil {
		return nil
	}
	return spec
}

// lintNamespaceLabels runs container/object-namespace-labels: a d8- namespace
// holding PrometheusRules must let the rules watcher find them.
func lintNamespaceLabels(c *collector, ns *renderedObject, objs []*renderedObject) {
	if !strings.HasPrefix(ns.ref.Name, "d8-") {
		return
	}
	hasRules := false
	for _, o := range objs {
		if o.ref.Kind == "PrometheusRule" && o.ref.Namespace == ns.ref.Name {
			hasRules = true
			break
		}
	}
	if !hasRules {
		return
	}
	meta, _ := ns.raw["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	if labels["prometheus.deckhouse.io/rules-watcher-enabled"] == "true" {
		return
	}
	c.addProblem(ns.problem(LinterContainer, "object-namespace-labels", "", "metadata:",
		`the namespace holds PrometheusRules but lacks the label prometheus.deckhouse.io/rules-watcher-enabled: "true", so the rules are never loaded`))
}

// lintHostNetworkPorts runs container/host-network-ports: ports a pod opens on
// the node stay in DKP's reserved range 4200-4299.
func lintHostNetworkPorts(c *collector, o *renderedObject, spec *corev1.PodSpec, ct corev1.Container) {
	for _, p := range ct.Ports {
		if spec.HostNetwork && (p.ContainerPort < 4200 || p.ContainerPort >= 4300) {
			c.addProblem(o.problem(LinterContainer, "host-network-ports", ct.Name, fmt.Sprintf("%d", p.ContainerPort),
				"the pod uses hostNetwork, so containerPort %d opens on the node: use a port in 4200-4299", p.ContainerPort))
		}
		if p.HostPort != 0 && (p.HostPort < 4200 || p.HostPort >= 4300) {
			c.addProblem(o.problem(LinterContainer, "host-network-ports", ct.Name, "hostPort",
				"hostPort %d is outside 4200-4299, the range DKP reserves for module host ports", p.HostPort))
		}
	}
}

// lintSysCgroupMount runs container/sys-cgroup-mount: on a read-only hardened
// containerd the cgroup submount does not come along with /sys, so a container
// mounting /sys mounts /sys/fs/cgroup itself.
func lintSysCgroupMount(c *collector, o *renderedObject, ct corev1.Container) {
	var sys, cgroup bool
	for _, vm := range ct.VolumeMounts {
		switch strings.TrimRight(vm.MountPath, "/") {
		case "/sys":
			sys = true
		case "/sys/fs/cgroup":
			cgroup = true
		}
	}
	if sys && !cgroup {
		c.addProblem(o.problem(LinterContainer, "sys-cgroup-mount", ct.Name, "/sys",
			"mounts /sys but not /sys/fs/cgroup: add a /sys/fs/cgroup mount (hardened runtimes do not carry it along with /sys)"))
	}
}

// lintImageDigest runs container/image-digest: every image comes from the
// module's registry (what helm_lib_module_image renders), not a hard-coded one.
func lintImageDigest(c *collector, o *renderedObject, ct corev1.Container) {
	want := module.StubRegistry().Base
	repo, err := name.NewRepository(strings.Split(ct.Image, "@")[0])
	if err != nil {
		c.addProblem(o.problem(LinterContainer, "image-digest", ct.Name, "image:",
			"image %q is not REPOSITORY@DIGEST: render it with helm_lib_module_image", ct.Image))
		return
	}
	// A module's images live in the source's repository of the module
	// (S/m@digest, how DKP lays out a source), so anything under the
	// registry base is the module registry.
	if repo.Name() != want && !strings.HasPrefix(repo.Name(), want+"/") {
		c.addProblem(o.problem(LinterContainer, "image-digest", ct.Name, "image:",
			"image %q is not from the module registry (%s): render it with helm_lib_module_image", ct.Image, want))
	}
}

// lintImageNames runs container/container-image-name on the template of a
// workload: image names given to helm_lib_module_image have no underscores
// (werf image names cannot). Each template line is reported once.
func lintImageNames(c *collector, o *renderedObject, seen map[string]bool) {
	if o.src == nil {
		return
	}
	for i, line := range o.src.lines {
		mt := moduleImageLine.FindStringSubmatch(line)
		if mt == nil || !strings.Contains(mt[1], "_") {
			continue
		}
		key := fmt.Sprintf("%s:%d", o.template, i+1)
		if seen[key] {
			continue
		}
		seen[key] = true
		p := o.problem(LinterContainer, "container-image-name", "", "", "image name %q must not contain underscores", mt[1])
		p.Line = i + 1
		c.addProblem(p)
	}
}

// lintMountPaths runs container/mount-points: when the module declares its
// host mounts in images/*/mount-points.yaml, every mountPath is declared there.
func lintMountPaths(c *collector, o *renderedObject, ct corev1.Container, declared map[string]bool) {
	for _, vm := range ct.VolumeMounts {
		path := strings.TrimRight(vm.MountPath, "/")
		if builtinMountPaths[path] || declared[path] {
			continue
		}
		p := o.problem(LinterContainer, "mount-points", ct.Name, "mountPath: "+vm.MountPath,
			"mountPath %q is not declared in any mount-points.yaml", vm.MountPath)
		p.Severity = SeverityWarning
		p.Key = path
		c.addProblem(p)
	}
}

// mountPointsFile is images/<image>/mount-points.yaml.
type mountPointsFile struct {
	Dirs  []string `json:"dirs"`
	Files []string `json:"files"`
}

// mountPointsDeclared collects the entries of every mount-points.yaml in the
// module, by file (module-relative). It is nil when the module has no images
// directory or declares nothing, which turns both mount-points rules off.
func mountPointsDeclared(dir string) map[string]bool {
	byFile, _ := mountPointsByFile(dir)
	if len(byFile) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, entries := range byFile {
		for _, e := range entries {
			out[strings.TrimRight(e, "/")] = true
		}
	}
	return out
}

// mountPointsByFile reads every mount-points.yaml of a module with an images
// directory: the entries by file, and the files that do not parse.
func mountPointsByFile(dir string) (map[string][]string, map[string]error) {
	if fi, err := os.Stat(filepath.Join(dir, "images")); err != nil || !fi.IsDir() {
		return nil, nil
	}
	out, bad := map[string][]string{}, map[string]error{}
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "mount-points.yaml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var f mountPointsFile
		if err := sigsyaml.Unmarshal(data, &f); err != nil {
			bad[relTo(dir, path)] = err
			return nil
		}
		if entries := append(append([]string{}, f.Dirs...), f.Files...); len(entries) > 0 {
			out[relTo(dir, path)] = entries
		}
		return nil
	})
	return out, bad
}

// wantedAPIVersion is the only apiVersion dmt's object-api-version rule
// accepts for these kinds.
var wantedAPIVersion = map[string]string{
	"Role": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1",
	"ClusterRole": "rbac.authorization.k8s.io/v1", "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
	"Deployment": "apps/v1", "DaemonSet": "apps/v1", "StatefulSet": "apps/v1",
	"Ingress": "networking.k8s.io/v1", "NetworkPolicy": "networking.k8s.io/v1",
	"PriorityClass": "scheduling.k8s.io/v1", "PodSecurityPolicy": "policy/v1beta1",
}

// lintAPIVersion runs container/object-api-version: an error where dmt has
// one (the kinds in wantedAPIVersion), and a warning for other apiVersions
// Kubernetes has removed, which dmt does not check but an install would fail on.
func lintAPIVersion(c *collector, o *renderedObject, apiVersion string) {
	if want, ok := wantedAPIVersion[o.ref.Kind]; ok {
		if apiVersion != want {
			c.addProblem(o.problem(LinterContainer, "object-api-version", "", "apiVersion:", "apiVersion %s is deprecated: use %s", apiVersion, want))
		}
		return
	}
	if repl, bad := deprecatedAPIVersions[apiVersion]; bad {
		p := o.problem(LinterContainer, "object-api-version", "", "apiVersion:", "apiVersion %s is deprecated or removed: use %s", apiVersion, repl)
		p.Severity = SeverityWarning
		c.addProblem(p)
	}
}
