package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// settingsChecker is what the ModuleConfig webhook needs of the runtime.
type settingsChecker interface {
	CheckSettings(name string, settings map[string]any, version int) (known bool, err error)
}

// moduleConfigValidator is DKP's ModuleConfig webhook: a bad `kubectl
// apply` fails at once with the reason. The runtime still validates on its
// side, for clusters that run without the webhook.
func moduleConfigValidator(c client.Client, rt func() settingsChecker) webhook.Validator {
	return webhook.Validator{
		Name: "moduleconfigs.deckhouse.io",
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{v1alpha1.GroupVersion.Group}, APIVersions: []string{v1alpha1.GroupVersion.Version},
				Resources: []string{v1alpha1.ModuleConfigResource}, Scope: ptrScope(admissionregistrationv1.ClusterScope),
			},
		}},
		FailurePolicy: admissionregistrationv1.Fail,
		Func: func(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
			var mc v1alpha1.ModuleConfig
			if err := json.Unmarshal(req.Object.Raw, &mc); err != nil {
				return deny("ModuleConfig: %v", err)
			}
			warnings, err := checkModuleConfig(ctx, c, rt(), &mc)
			if err != nil {
				return deny("ModuleConfig %s: %v", mc.Name, err)
			}
			return &admissionv1.AdmissionResponse{Allowed: true, Warnings: warnings}
		},
	}
}

func ptrScope(s admissionregistrationv1.ScopeType) *admissionregistrationv1.ScopeType { return &s }

func deny(format string, args ...any) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Message: fmt.Sprintf(format, args...), Code: http.StatusForbidden}}
}

// checkModuleConfig applies DKP's rules: a known module (embedded, run,
// or offered by a source), a policy that exists, a source that offers the
// module, settings valid for the module's schema after conversions.
func checkModuleConfig(ctx context.Context, c client.Client, rt settingsChecker, mc *v1alpha1.ModuleConfig) ([]string, error) {
	if mc.Name == v1alpha1.GlobalModuleConfigName {
		return nil, nil
	}
	enabled := mc.Spec.Enabled != nil && *mc.Spec.Enabled
	if mc.Spec.Source == v1alpha1.ModuleSourceEmbedded {
		return nil, fmt.Errorf("spec.source: %q is not a ModuleSource; leave it empty for an embedded module", mc.Spec.Source)
	}
	if p := mc.Spec.UpdatePolicy; p != "" {
		var mup v1alpha2.ModuleUpdatePolicy
		if err := c.Get(ctx, client.ObjectKey{Name: p}, &mup); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("spec.updatePolicy: ModuleUpdatePolicy %q not found (kubectl get mup)", p)
			}
			return nil, err
		}
	}
	var mod v1alpha1.Module
	modErr := c.Get(ctx, client.ObjectKey{Name: mc.Name}, &mod)
	if modErr != nil && !apierrors.IsNotFound(modErr) {
		return nil, modErr
	}
	settings := map[string]any{}
	if mc.Spec.Settings != nil && len(mc.Spec.Settings.Raw) > 0 {
		if err := json.Unmarshal(mc.Spec.Settings.Raw, &settings); err != nil {
			return nil, fmt.Errorf("spec.settings: %w", err)
		}
	}
	known, err := rt.CheckSettings(mc.Name, settings, mc.Spec.Version)
	if err != nil {
		return nil, fmt.Errorf("spec.settings: %w", err)
	}
	if !known && apierrors.IsNotFound(modErr) {
		msg := fmt.Sprintf("module %q is unknown: it is not embedded and no ModuleSource offers it (kubectl get modules)", mc.Name)
		if enabled {
			return nil, fmt.Errorf("%s", msg)
		}
		return []string{msg}, nil
	}
	if src := mc.Spec.Source; src != "" && modErr == nil && mod.Properties.Source != v1alpha1.ModuleSourceEmbedded &&
		!slices.Contains(mod.Properties.AvailableSources, src) {
		return nil, fmt.Errorf("spec.source: ModuleSource %q does not offer module %s (offered by: %s)", src, mc.Name, strings.Join(mod.Properties.AvailableSources, ", "))
	}
	if enabled && mc.Spec.Source == "" && modErr == nil && len(mod.Properties.AvailableSources) > 1 {
		return []string{fmt.Sprintf("several sources offer module %s (%s): set spec.source", mc.Name, strings.Join(mod.Properties.AvailableSources, ", "))}, nil
	}
	return nil, nil
}
