package moduletest

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// resourceInfo is what discovery says about one kind.
type resourceInfo struct {
	gvk        schema.GroupVersionKind
	plural     string
	singular   string
	namespaced bool
	shortNames []string
}

func (r resourceInfo) gvr() schema.GroupVersionResource {
	return r.gvk.GroupVersion().WithResource(r.plural)
}

// builtinKinds are the Kubernetes kinds a test cluster knows without any
// object of them: hooks bind to these most. Scope and short names are the
// ones kube-apiserver serves.
var builtinKinds = []struct {
	apiVersion, kind, plural string
	namespaced               bool
	short                    []string
}{
	{"v1", "Pod", "pods", true, []string{"po"}},
	{"v1", "Service", "services", true, []string{"svc"}},
	{"v1", "ConfigMap", "configmaps", true, []string{"cm"}},
	{"v1", "Secret", "secrets", true, nil},
	{"v1", "ServiceAccount", "serviceaccounts", true, []string{"sa"}},
	{"v1", "Endpoints", "endpoints", true, []string{"ep"}},
	{"v1", "Event", "events", true, []string{"ev"}},
	{"v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, []string{"pvc"}},
	{"v1", "PersistentVolume", "persistentvolumes", false, []string{"pv"}},
	{"v1", "Namespace", "namespaces", false, []string{"ns"}},
	{"v1", "Node", "nodes", false, []string{"no"}},
	{"apps/v1", "Deployment", "deployments", true, []string{"deploy"}},
	{"apps/v1", "StatefulSet", "statefulsets", true, []string{"sts"}},
	{"apps/v1", "DaemonSet", "daemonsets", true, []string{"ds"}},
	{"apps/v1", "ReplicaSet", "replicasets", true, []string{"rs"}},
	{"batch/v1", "Job", "jobs", true, nil},
	{"batch/v1", "CronJob", "cronjobs", true, []string{"cj"}},
	{"networking.k8s.io/v1", "Ingress", "ingresses", true, []string{"ing"}},
	{"networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true, []string{"netpol"}},
	{"networking.k8s.io/v1", "IngressClass", "ingressclasses", false, nil},
	{"policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true, []string{"pdb"}},
	{"rbac.authorization.k8s.io/v1", "Role", "roles", true, nil},
	{"rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true, nil},
	{"rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false, nil},
	{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false, nil},
	{"coordination.k8s.io/v1", "Lease", "leases", true, nil},
	{"storage.k8s.io/v1", "StorageClass", "storageclasses", false, []string{"sc"}},
	{"scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", false, []string{"pc"}},
	{"autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, []string{"hpa"}},
	{"apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false, []string{"crd", "crds"}},
	{"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false, nil},
	{"admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false, nil},
}

// kindRegistry is the discovery data of a test cluster: the built-in kinds,
// kinds declared by CustomResourceDefinition objects of the case, and kinds
// only seen on objects (namespaced when the object has a namespace).
type kindRegistry struct {
	byGVK map[schema.GroupVersionKind]resourceInfo
}

func newKindRegistry() *kindRegistry {
	r := &kindRegistry{byGVK: map[schema.GroupVersionKind]resourceInfo{}}
	for _, b := range builtinKinds {
		gv, _ := schema.ParseGroupVersion(b.apiVersion)
		gvk := gv.WithKind(b.kind)
		r.byGVK[gvk] = resourceInfo{gvk: gvk, plural: b.plural, singular: strings.ToLower(b.kind), namespaced: b.namespaced, shortNames: b.short}
	}
	return r
}

// learn registers the kinds objs declare (CRDs) or carry.
func (r *kindRegistry) learn(objs []*unstructured.Unstructured) {
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		plural, _, _ := unstructured.NestedString(o.Object, "spec", "names", "plural")
		singular, _, _ := unstructured.NestedString(o.Object, "spec", "names", "singular")
		short, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "names", "shortNames")
		scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
		versions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
		for _, v := range versions {
			vm, _ := v.(map[string]any)
			name, _ := vm["name"].(string)
			if name == "" || kind == "" || plural == "" {
				continue
			}
			if singular == "" {
				singular = strings.ToLower(kind)
			}
			gvk := schema.GroupVersionKind{Group: group, Version: name, Kind: kind}
			r.byGVK[gvk] = resourceInfo{gvk: gvk, plural: plural, singular: singular, namespaced: scope != "Cluster", shortNames: short}
		}
	}
	for _, o := range objs {
		r.guess(o.GroupVersionKind(), o.GetNamespace() != "")
	}
}

// guess registers a kind nothing declared, as a custom resource would be.
func (r *kindRegistry) guess(gvk schema.GroupVersionKind, namespaced bool) {
	if _, ok := r.byGVK[gvk]; ok || gvk.Kind == "" || gvk.Version == "" {
		return
	}
	plural, singular := meta.UnsafeGuessKindToResource(gvk)
	r.byGVK[gvk] = resourceInfo{gvk: gvk, plural: plural.Resource, singular: singular.Resource, namespaced: namespaced}
}

func (r *kindRegistry) lookup(gvk schema.GroupVersionKind) (resourceInfo, bool) {
	info, ok := r.byGVK[gvk]
	return info, ok
}

// byResource finds the kind served at group/version/plural.
func (r *kindRegistry) byResource(gvr schema.GroupVersionResource) (resourceInfo, bool) {
	for _, info := range r.byGVK {
		if info.gvr() == gvr {
			return info, true
		}
	}
	return resourceInfo{}, false
}
