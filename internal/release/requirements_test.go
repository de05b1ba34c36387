package release

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
)

func TestRequirements(t *testing.T) {
	scheme := kruntime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	enabled := &v1alpha1.Module{ObjectMeta: metav1.ObjectMeta{Name: "cert-manager"}}
	enabled.Properties.Version = "v1.5.0"
	enabled.Status.Conditions = []v1alpha1.ModuleCondition{{Type: v1alpha1.ModuleConditionEnabledByModuleManager, Status: "True"}}
	disabled := &v1alpha1.Module{ObjectMeta: metav1.ObjectMeta{Name: "prometheus"}}
	r := &ModuleReconciler{Client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(enabled, disabled).Build(), KubeVersion: "v1.37.2"}
	for _, tc := range []struct {
		req  v1alpha1.ModuleReleaseRequirements
		want string // "" for satisfied
	}{
		{v1alpha1.ModuleReleaseRequirements{Kubernetes: ">= 1.30"}, ""},
		{v1alpha1.ModuleReleaseRequirements{Kubernetes: ">= 1.40"}, "kubernetes >= 1.40 is required, the cluster runs v1.37.2"},
		{v1alpha1.ModuleReleaseRequirements{Modules: map[string]string{"cert-manager": ">= 1.2"}}, ""},
		{v1alpha1.ModuleReleaseRequirements{Modules: map[string]string{"cert-manager": ">= 2.0"}}, "module cert-manager >= 2.0 is required, v1.5.0 runs"},
		{v1alpha1.ModuleReleaseRequirements{Modules: map[string]string{"prometheus": ">= 0"}}, "required and not enabled"},
		{v1alpha1.ModuleReleaseRequirements{Modules: map[string]string{"ingress": ">= 0"}}, "required and not installed"},
	} {
		mr := &v1alpha1.ModuleRelease{Spec: v1alpha1.ModuleReleaseSpec{Requirements: &tc.req}}
		err := r.requirements(context.Background(), mr)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.req, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want %q", tc.req, err, tc.want)
		}
	}
}
