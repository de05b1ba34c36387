package webhook

import (
	"context"
	"fmt"
	"sort"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// register creates or updates the webhook configurations and points the
// CRDs' conversion at this server, with the current CA bundle.
func (s *Server) register(ctx context.Context) error {
	ca, err := s.certs.CABundle()
	if err != nil {
		return err
	}
	s.mu.RLock()
	entries := make([]*admissionEntry, 0, len(s.admission))
	for _, e := range s.admission {
		entries = append(entries, e)
	}
	crds := make([]string, 0, len(s.conversion))
	for name := range s.conversion {
		crds = append(crds, name)
	}
	validators := make([]string, 0, len(s.validators))
	for p := range s.validators {
		validators = append(validators, p)
	}
	sort.Strings(validators)
	var own []admissionv1.ValidatingWebhook
	for _, p := range validators {
		v := s.validators[p]
		own = append(own, admissionv1.ValidatingWebhook{
			Name: v.Name, ClientConfig: s.admissionClientConfig(p, ca), Rules: v.Rules, FailurePolicy: ptr.To(v.FailurePolicy),
			MatchPolicy: ptr.To(admissionv1.Equivalent), SideEffects: ptr.To(admissionv1.SideEffectClassNone),
			TimeoutSeconds: ptr.To(int32(10)), AdmissionReviewVersions: []string{"v1"},
		})
	}
	s.mu.RUnlock()
	sort.Slice(entries, func(i, j int) bool { return entries[i].path < entries[j].path })
	sort.Strings(crds)
	var validating []admissionv1.ValidatingWebhook
	var mutating []admissionv1.MutatingWebhook
	for _, e := range entries {
		b := e.b
		cc := s.admissionClientConfig(e.path, ca)
		if e.mutating {
			mutating = append(mutating, admissionv1.MutatingWebhook{
				Name: b.Name, ClientConfig: cc, Rules: b.Rules, FailurePolicy: ptr.To(b.FailurePolicy),
				MatchPolicy: ptr.To(admissionv1.Equivalent), NamespaceSelector: b.NamespaceSelector, ObjectSelector: b.ObjectSelector,
				SideEffects: ptr.To(b.SideEffects), TimeoutSeconds: ptr.To(b.TimeoutSeconds),
				AdmissionReviewVersions: []string{"v1"}, MatchConditions: b.MatchConditions,
			})
			continue
		}
		validating = append(validating, admissionv1.ValidatingWebhook{
			Name: b.Name, ClientConfig: cc, Rules: b.Rules, FailurePolicy: ptr.To(b.FailurePolicy),
			MatchPolicy: ptr.To(admissionv1.Equivalent), NamespaceSelector: b.NamespaceSelector, ObjectSelector: b.ObjectSelector,
			SideEffects: ptr.To(b.SideEffects), TimeoutSeconds: ptr.To(b.TimeoutSeconds),
			AdmissionReviewVersions: []string{"v1"}, MatchConditions: b.MatchConditions,
		})
	}
	validating = append(validating, own...)
	// Applied even when empty: a hook removed must not leave its webhook
	// registered (its requests would fail). A conversion-only server leaves
	// the admission configurations to its sibling.
	admission := s.opts.Kube != nil && s.opts.Serve != ServeConversion
	if admission {
		if err := s.applyValidating(ctx, validating); err != nil {
			return fmt.Errorf("ValidatingWebhookConfiguration %s: %w", s.opts.ConfigurationName, err)
		}
	}
	if admission {
		if err := s.applyMutating(ctx, mutating); err != nil {
			return fmt.Errorf("MutatingWebhookConfiguration %s: %w", s.opts.ConfigurationName, err)
		}
	}
	for _, crd := range crds {
		if s.opts.APIExt == nil {
			break
		}
		if err := s.patchConversion(ctx, crd, ca); err != nil {
			return fmt.Errorf("CustomResourceDefinition %s: spec.conversion: %w", crd, err)
		}
	}
	return nil
}

func (s *Server) admissionClientConfig(path string, ca []byte) admissionv1.WebhookClientConfig {
	if s.opts.URL != "" {
		return admissionv1.WebhookClientConfig{URL: ptr.To(s.clientURL(path)), CABundle: ca}
	}
	return admissionv1.WebhookClientConfig{CABundle: ca, Service: &admissionv1.ServiceReference{
		Namespace: s.opts.Namespace, Name: s.opts.ServiceName, Path: ptr.To(path), Port: ptr.To(s.opts.ServicePort),
	}}
}

// configClient is what applyConfig needs of a typed client of webhook
// configurations (validating or mutating).
type configClient[T any] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*T, error)
	Create(ctx context.Context, obj *T, opts metav1.CreateOptions) (*T, error)
	Update(ctx context.Context, obj *T, opts metav1.UpdateOptions) (*T, error)
}

// applyConfig creates or updates the configuration named name with set; an
// absent configuration stays absent when there is nothing to register.
func applyConfig[T any](ctx context.Context, c configClient[T], name string, empty bool, fresh func() *T, set func(*T)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := c.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			if empty {
				return nil
			}
			obj := fresh()
			set(obj)
			_, err = c.Create(ctx, obj, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		set(cur)
		_, err = c.Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
}

func (s *Server) applyValidating(ctx context.Context, hooks []admissionv1.ValidatingWebhook) error {
	name := s.opts.ConfigurationName
	return applyConfig(ctx, s.opts.Kube.AdmissionregistrationV1().ValidatingWebhookConfigurations(), name, len(hooks) == 0,
		func() *admissionv1.ValidatingWebhookConfiguration {
			return &admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}
		},
		func(o *admissionv1.ValidatingWebhookConfiguration) { o.Webhooks = hooks })
}

func (s *Server) applyMutating(ctx context.Context, hooks []admissionv1.MutatingWebhook) error {
	name := s.opts.ConfigurationName
	return applyConfig(ctx, s.opts.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations(), name, len(hooks) == 0,
		func() *admissionv1.MutatingWebhookConfiguration {
			return &admissionv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}
		},
		func(o *admissionv1.MutatingWebhookConfiguration) { o.Webhooks = hooks })
}

func (s *Server) patchConversion(ctx context.Context, name string, ca []byte) error {
	c := s.opts.APIExt.ApiextensionsV1().CustomResourceDefinitions()
	path := "/convert/" + name
	cc := &apiextensionsv1.WebhookClientConfig{CABundle: ca}
	if s.opts.URL != "" {
		cc.URL = ptr.To(s.clientURL(path))
	} else {
		cc.Service = &apiextensionsv1.ServiceReference{Namespace: s.opts.Namespace, Name: s.opts.ServiceName, Path: ptr.To(path), Port: ptr.To(s.opts.ServicePort)}
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		crd, err := c.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		crd.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{
			Strategy: apiextensionsv1.WebhookConverter,
			Webhook:  &apiextensionsv1.WebhookConversion{ClientConfig: cc, ConversionReviewVersions: []string{"v1"}},
		}
		_, err = c.Update(ctx, crd, metav1.UpdateOptions{})
		return err
	})
}
