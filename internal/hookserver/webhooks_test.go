package hookserver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/deckhand-dev/deckhand/internal/testenv"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// The webhook bindings of shell-operator hooks on the real API server: a
// validating hook rejects a bad object with its message and accepts a good
// one, a mutating hook's patch is applied, an object stored in v1alpha1 is
// read in v1 through a chain of two conversion hooks, and a hook that hangs
// past its timeout admits with failurePolicy Ignore and rejects with Fail.
// Certificates are generated and their CA injected.
func TestWebhookBindings(t *testing.T) {
	cp := testenv.ControlPlane(t)
	ns := testenv.Namespace(t, cp.Config, "webhooks")
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	crd := "crontabs." + group
	testenv.Apply(t, cp.Config, `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: `+crd+`}
spec:
  group: `+group+`
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1alpha2
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`)
	dir := t.TempDir()
	rules := `[{operations: [CREATE, UPDATE], apiGroups: ["` + group + `"], apiVersions: ["*"], resources: [crontabs], scope: Namespaced}]`
	nsSel := `namespace: {labelSelector: {matchLabels: {kubernetes.io/metadata.name: ` + ns + `}}}`
	writeHook(t, dir, "validating.sh", `configVersion: v1
kubernetesValidating:
- name: validate.`+group+`
  rules: `+rules+`
  `+nsSel+`
  labelSelector: {matchExpressions: [{key: hang, operator: DoesNotExist}]}`, `image=$(jq -r '.[0].review.request.object.spec.image // ""' "$BINDING_CONTEXT_PATH")
if [[ "$image" == *bad* ]]; then
  echo '{"allowed": false, "message": "image '"$image"' is not allowed"}' > "$VALIDATING_RESPONSE_PATH"
else
  echo '{"allowed": true}' > "$VALIDATING_RESPONSE_PATH"
fi`)
	writeHook(t, dir, "mutating.sh", `configVersion: v1
kubernetesMutating:
- name: mutate.`+group+`
  rules: `+rules+`
  `+nsSel+`
  labelSelector: {matchExpressions: [{key: hang, operator: DoesNotExist}]}`,
		`patch=$(echo '[{"op":"add","path":"/spec/mutated","value":"yes"}]' | base64 -w0)
echo '{"allowed": true, "patch": "'"$patch"'"}' > "$VALIDATING_RESPONSE_PATH"`)
	writeHook(t, dir, "hang.sh", `configVersion: v1
kubernetesValidating:
- name: hang-ignore.`+group+`
  rules: `+rules+`
  `+nsSel+`
  labelSelector: {matchLabels: {hang: ignore}}
  failurePolicy: Ignore
  timeoutSeconds: 2
- name: hang-fail.`+group+`
  rules: `+rules+`
  `+nsSel+`
  labelSelector: {matchLabels: {hang: fail}}
  failurePolicy: Fail
  timeoutSeconds: 2`, `sleep 30`)
	writeHook(t, dir, "convert.sh", `configVersion: v1
kubernetesCustomResourceConversion:
- name: alpha1_to_alpha2
  crdName: `+crd+`
  conversions: [{fromVersion: `+group+`/v1alpha1, toVersion: `+group+`/v1alpha2}]
- name: alpha2_to_v1
  crdName: `+crd+`
  conversions: [{fromVersion: v1alpha2, toVersion: v1}]
- name: back
  crdName: `+crd+`
  conversions: [{fromVersion: v1, toVersion: v1alpha2}, {fromVersion: v1alpha2, toVersion: v1alpha1}]`,
		`from=$(jq -r '.[0].fromVersion' "$BINDING_CONTEXT_PATH"); to=$(jq -r '.[0].toVersion' "$BINDING_CONTEXT_PATH")
to_full=$(jq -r '.[0].review.request.desiredAPIVersion' "$BINDING_CONTEXT_PATH")
jq --arg to "$to_full" --arg step "${from##*/}->${to##*/}" '{convertedObjects: [.[0].review.request.objects[] | .apiVersion = $to | .spec.steps = ((.spec.steps // []) + [$step])]}' "$BINDING_CONTEXT_PATH" > "$CONVERSION_RESPONSE_PATH"`)

	vAddr, cAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	name := ns + "-hooks"
	startServer(t, dir, func(o *Options) {
		o.Webhooks = []webhook.Options{
			{ListenAddress: vAddr, URL: "https://" + vAddr, ConfigurationName: name, Serve: webhook.ServeAdmission},
			{ListenAddress: cAddr, URL: "https://" + cAddr, ConfigurationName: name, Serve: webhook.ServeConversion},
		}
	})
	dyn, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := func(v string) dynamic.ResourceInterface {
		return dyn.Resource(schema.GroupVersionResource{Group: group, Version: v, Resource: "crontabs"}).Namespace(ns)
	}
	obj := func(name, image string, labels map[string]any) *unstructured.Unstructured {
		meta := map[string]any{"name": name}
		if labels != nil {
			meta["labels"] = labels
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": group + "/v1alpha1", "kind": "CronTab", "metadata": meta,
			"spec": map[string]any{"image": image},
		}}
	}
	ctx := context.Background()

	// The configurations are registered asynchronously: wait until a good
	// object goes through the mutating hook.
	var good *unstructured.Unstructured
	testenv.WaitFor(t, time.Minute, "the webhooks serving", func() (bool, string) {
		_ = gvr("v1alpha1").Delete(ctx, "good", metav1.DeleteOptions{})
		u, err := gvr("v1alpha1").Create(ctx, obj("good", "nginx", nil), metav1.CreateOptions{})
		if err != nil {
			return false, err.Error()
		}
		good = u
		m, _, _ := unstructured.NestedString(u.Object, "spec", "mutated")
		return m == "yes", fmt.Sprint(u.Object["spec"])
	})
	_, err = gvr("v1alpha1").Create(ctx, obj("evil", "bad/image", nil), metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "image bad/image is not allowed") {
		t.Fatalf("a bad object: %v", err)
	}

	// Stored in v1alpha1, read in v1 through v1alpha1 -> v1alpha2 -> v1.
	u, err := gvr("v1").Get(ctx, good.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	steps, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "steps")
	if u.GetAPIVersion() != group+"/v1" || strings.Join(steps, ",") != "v1alpha1->v1alpha2,v1alpha2->v1" {
		t.Fatalf("read in v1: %s, steps %v", u.GetAPIVersion(), steps)
	}

	// A hook that hangs: Ignore admits, Fail rejects naming the hook.
	start := time.Now()
	if _, err := gvr("v1alpha1").Create(ctx, obj("hang-ignore", "nginx", map[string]any{"hang": "ignore"}), metav1.CreateOptions{}); err != nil {
		t.Fatalf("failurePolicy Ignore: %v", err)
	}
	_, err = gvr("v1alpha1").Create(ctx, obj("hang-fail", "nginx", map[string]any{"hang": "fail"}), metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "hang.sh") || apierrors.IsAlreadyExists(err) {
		t.Fatalf("failurePolicy Fail: %v", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("two hanging requests took %s", took)
	}
}
