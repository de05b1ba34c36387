package deckhand_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

const ns = "d8-system"

func TestRenderDefaults(t *testing.T) {
	r := render(t, ns, nil)
	for kind, want := range map[string]int{
		"ServiceAccount": 1, "ClusterRole": 1, "ClusterRoleBinding": 2, "Role": 1, "RoleBinding": 1,
		"Deployment": 1, "Service": 1, "PodDisruptionBudget": 1,
		"ServiceMonitor": 0, "Secret": 0, "ConfigMap": 0,
	} {
		if got := r.kinds()[kind]; got != want {
			t.Errorf("%d %s rendered, want %d", got, kind, want)
		}
	}
	for _, o := range r.objs {
		if o.GetNamespace() != ns && !strings.HasPrefix(o.GetKind(), "Cluster") {
			t.Errorf("%s %s: namespace %q, want the release namespace %q", o.GetKind(), o.GetName(), o.GetNamespace(), ns)
		}
		if o.GetLabels()["app.kubernetes.io/name"] != "deckhand" || o.GetLabels()["app.kubernetes.io/instance"] != "deckhand" {
			t.Errorf("%s %s: labels %v lack app.kubernetes.io/name and instance", o.GetKind(), o.GetName(), o.GetLabels())
		}
	}

	d := deployment(t, r)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("Deployment replicas = %v, want 2", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != "deckhand" {
		t.Errorf("serviceAccountName = %q", pod.ServiceAccountName)
	}
	c := pod.Containers[0]
	wantArgs := []string{"operator", "--leader-elect", "--namespace=" + ns,
		"--downloaded-dir=/deckhand/downloaded", "--metrics-bind-address=:9650", "--health-probe-bind-address=:9651", "--install-crds=true"}
	if !slices.Equal(c.Args, wantArgs) {
		t.Errorf("args = %q, want %q", c.Args, wantArgs)
	}
	if c.Image != "ghcr.io/deckhand-dev/deckhand:0.1.0" {
		t.Errorf("image = %q, want the chart's appVersion as tag", c.Image)
	}
	if e := envVar(c, "ADDON_OPERATOR_NAMESPACE"); e == nil || e.ValueFrom == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("ADDON_OPERATOR_NAMESPACE = %+v, want the pod's namespace", e)
	}
	if envVar(c, "DOCKER_CONFIG") != nil || envVar(c, "SSL_CERT_DIR") != nil {
		t.Errorf("registry env set without registry values")
	}
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http-probes" {
			t.Errorf("%s = %+v, want GET %s on http-probes", name, p, path)
		}
	}
	probe("livenessProbe", c.LivenessProbe, "/healthz")
	probe("readinessProbe", c.ReadinessProbe, "/readyz")
	if port := containerPort(c, "http-probes"); port != 9651 {
		t.Errorf("http-probes port = %d, want 9651", port)
	}
	if port := containerPort(c, "http-metrics"); port != 9650 {
		t.Errorf("http-metrics port = %d, want 9650", port)
	}
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext = %+v", sc)
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources = %+v, want memory requests and limits", c.Resources)
	}
	if m := volumeMount(c, "downloaded"); m == nil || m.MountPath != "/deckhand/downloaded" {
		t.Errorf("downloaded mount = %+v", m)
	}
	if v := volume(pod, "downloaded"); v == nil || v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.String() != "2Gi" {
		t.Errorf("downloaded volume = %+v, want an emptyDir of 2Gi", v)
	}
	aa := pod.Affinity
	if aa == nil || aa.PodAntiAffinity == nil || len(aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 ||
		aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("affinity = %+v, want preferred anti-affinity on hostname", aa)
	}

	pdb := &policyv1.PodDisruptionBudget{}
	convert(t, r.must(t, "PodDisruptionBudget", "deckhand"), pdb)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PDB minAvailable = %v, want 1", pdb.Spec.MinAvailable)
	}
	svc := &corev1.Service{}
	convert(t, r.must(t, "Service", "deckhand-metrics"), svc)
	if p := svc.Spec.Ports; len(p) != 1 || p[0].Name != "http-metrics" || p[0].Port != 9650 {
		t.Errorf("Service ports = %+v, want http-metrics 9650", p)
	}

	// RBAC: the operator's own rules, and cluster-admin for the modules.
	cr := clusterRole(t, r)
	for _, res := range []string{"modules", "moduleconfigs", "modulesources", "modulereleases", "moduleupdatepolicies", "modulepulloverrides"} {
		for _, verb := range []string{"get", "list", "watch", "create", "update", "patch", "delete"} {
			if !allows(cr.Rules, "deckhouse.io", res, verb) {
				t.Errorf("ClusterRole does not allow %s %s", verb, res)
			}
		}
		for _, sub := range []string{"/status", "/finalizers"} {
			if !allows(cr.Rules, "deckhouse.io", res+sub, "update") {
				t.Errorf("ClusterRole does not allow update %s%s", res, sub)
			}
		}
	}
	if !allows(cr.Rules, "", "events", "create") || !allows(cr.Rules, "", "events", "patch") || !allows(cr.Rules, "", "namespaces", "create") {
		t.Errorf("ClusterRole lacks events create/patch or namespaces create: %+v", cr.Rules)
	}
	if allows(cr.Rules, "", "secrets", "get") || allows(cr.Rules, "apps", "deployments", "create") {
		t.Errorf("ClusterRole grants more than the operator's own objects: %+v", cr.Rules)
	}
	role := &rbacv1.Role{}
	convert(t, r.must(t, "Role", "deckhand"), role)
	if !allows(role.Rules, "coordination.k8s.io", "leases", "update") {
		t.Errorf("Role does not allow updating the leader Lease: %+v", role.Rules)
	}
	crb := &rbacv1.ClusterRoleBinding{}
	convert(t, r.must(t, "ClusterRoleBinding", "deckhand-modules-cluster-admin"), crb)
	if crb.RoleRef.Name != "cluster-admin" || len(crb.Subjects) != 1 || crb.Subjects[0].Name != "deckhand" || crb.Subjects[0].Namespace != ns {
		t.Errorf("modules cluster-admin binding = %+v", crb)
	}
}

func TestRenderServiceMonitorAndRegistry(t *testing.T) {
	const dockerCfg = `{"auths":{"registry.example.io":{"auth":"dTpw"}}}`
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	r := render(t, ns, map[string]any{
		"serviceMonitor": map[string]any{"enabled": true},
		"registry":       map[string]any{"dockerConfigJSON": dockerCfg, "ca": ca},
	})
	sm := r.must(t, "ServiceMonitor", "deckhand")
	if sm.GetAPIVersion() != "monitoring.coreos.com/v1" {
		t.Errorf("ServiceMonitor apiVersion = %s", sm.GetAPIVersion())
	}
	eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(eps) == 0 || eps[0].(map[string]any)["port"] != "http-metrics" {
		t.Errorf("ServiceMonitor endpoints = %v, want port http-metrics", eps)
	}

	sec := r.must(t, "Secret", "deckhand-registry")
	if typ, _, _ := unstructured.NestedString(sec.Object, "type"); typ != "kubernetes.io/dockerconfigjson" {
		t.Errorf("registry Secret type = %q", typ)
	}
	enc, _, _ := unstructured.NestedString(sec.Object, "data", ".dockerconfigjson")
	if dec, _ := base64.StdEncoding.DecodeString(enc); string(dec) != dockerCfg {
		t.Errorf("registry Secret .dockerconfigjson = %q, want %q", dec, dockerCfg)
	}
	cm := r.must(t, "ConfigMap", "deckhand-registry-ca")
	if got, _, _ := unstructured.NestedString(cm.Object, "data", "ca.crt"); got != ca {
		t.Errorf("registry CA ConfigMap ca.crt = %q", got)
	}

	d := deployment(t, r)
	c := d.Spec.Template.Spec.Containers[0]
	if e := envVar(c, "DOCKER_CONFIG"); e == nil || e.Value != "/etc/deckhand/docker" {
		t.Errorf("DOCKER_CONFIG = %+v", e)
	}
	if e := envVar(c, "SSL_CERT_DIR"); e == nil || !slices.Contains(strings.Split(e.Value, ":"), "/etc/deckhand/registry-ca") {
		t.Errorf("SSL_CERT_DIR = %+v, want it to list /etc/deckhand/registry-ca", e)
	}
	if m := volumeMount(c, "registry-auth"); m == nil || m.MountPath != "/etc/deckhand/docker" {
		t.Errorf("registry-auth mount = %+v", m)
	}
	if m := volumeMount(c, "registry-ca"); m == nil || m.MountPath != "/etc/deckhand/registry-ca" {
		t.Errorf("registry-ca mount = %+v", m)
	}
	pod := d.Spec.Template.Spec
	if v := volume(pod, "registry-auth"); v == nil || v.Secret == nil || v.Secret.SecretName != "deckhand-registry" ||
		len(v.Secret.Items) != 1 || v.Secret.Items[0].Path != "config.json" {
		t.Errorf("registry-auth volume = %+v, want the Secret as config.json", v)
	}
	if v := volume(pod, "registry-ca"); v == nil || v.ConfigMap == nil || v.ConfigMap.Name != "deckhand-registry-ca" ||
		len(v.ConfigMap.Items) != 1 || v.ConfigMap.Items[0].Path != "ca.crt" {
		t.Errorf("registry-ca volume = %+v, want the ConfigMap as ca.crt", v)
	}
}

// TestRenderNarrowed: one replica, no cluster-admin, extra rules, CRDs left
// to the user, embedded modules mounted.
func TestRenderNarrowed(t *testing.T) {
	r := render(t, ns, map[string]any{
		"replicas": 1,
		"rbac": map[string]any{"modulesClusterAdmin": false, "extraRules": []any{
			map[string]any{"apiGroups": []any{"apps"}, "resources": []any{"deployments"}, "verbs": []any{"get", "create"}},
		}},
		"crds":              map[string]any{"operatorManaged": false},
		"extraVolumes":      []any{map[string]any{"name": "modules", "emptyDir": map[string]any{}}},
		"extraVolumeMounts": []any{map[string]any{"name": "modules", "mountPath": "/deckhand/modules", "readOnly": true}},
	})
	if r.find("PodDisruptionBudget", "deckhand") != nil {
		t.Errorf("PDB rendered with one replica: it would block every drain")
	}
	if r.find("ClusterRoleBinding", "deckhand-modules-cluster-admin") != nil {
		t.Errorf("cluster-admin binding rendered with rbac.modulesClusterAdmin=false")
	}
	cr := clusterRole(t, r)
	if !allows(cr.Rules, "apps", "deployments", "create") {
		t.Errorf("rbac.extraRules not in the ClusterRole: %+v", cr.Rules)
	}
	if allows(cr.Rules, "apiextensions.k8s.io", "customresourcedefinitions", "create") {
		t.Errorf("CRD permissions granted with crds.operatorManaged=false")
	}
	d := deployment(t, r)
	c := d.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--install-crds=false") {
		t.Errorf("args = %q, want --install-crds=false", c.Args)
	}
	if m := volumeMount(c, "modules"); m == nil || m.MountPath != "/deckhand/modules" {
		t.Errorf("extraVolumeMounts not applied: %+v", c.VolumeMounts)
	}
	if volume(d.Spec.Template.Spec, "modules") == nil {
		t.Errorf("extraVolumes not applied")
	}
}

func deployment(t *testing.T, r *rendered) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	convert(t, r.must(t, "Deployment", "deckhand"), d)
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	return d
}

func clusterRole(t *testing.T, r *rendered) *rbacv1.ClusterRole {
	t.Helper()
	cr := &rbacv1.ClusterRole{}
	convert(t, r.must(t, "ClusterRole", "deckhand"), cr)
	return cr
}

func convert(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// allows reports whether a rule grants verb on resource in group (no
// wildcards: the chart lists everything explicitly).
func allows(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
			return true
		}
	}
	return false
}

func envVar(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func volumeMount(c corev1.Container, name string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == name {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volume(pod corev1.PodSpec, name string) *corev1.Volume {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}
