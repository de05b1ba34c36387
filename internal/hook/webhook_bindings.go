package hook

import (
	"encoding/json"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Binding types of shell-operator's webhook bindings.
const (
	BindingValidating BindingType = "kubernetesValidating"
	BindingMutating   BindingType = "kubernetesMutating"
	BindingConversion BindingType = "kubernetesCustomResourceConversion"
)

// Context types of webhook runs.
const (
	TypeValidating ContextType = "Validating"
	TypeMutating   ContextType = "Mutating"
	TypeConversion ContextType = "Conversion"
)

// AdmissionBinding is one item of kubernetesValidating or kubernetesMutating:
// a webhook of the operator's Validating/MutatingWebhookConfiguration whose
// requests run the hook synchronously.
type AdmissionBinding struct {
	Name                 string
	IncludeSnapshotsFrom []string
	Group                string
	Rules                []admissionv1.RuleWithOperations
	// FailurePolicy is Fail unless the binding says Ignore.
	FailurePolicy admissionv1.FailurePolicyType
	SideEffects   admissionv1.SideEffectClass
	// TimeoutSeconds is the API server's timeout (default 10).
	TimeoutSeconds    int32
	MatchConditions   []admissionv1.MatchCondition
	ObjectSelector    *metav1.LabelSelector
	NamespaceSelector *metav1.LabelSelector
}

// ConversionBinding is one item of kubernetesCustomResourceConversion: the
// hook converts objects of CRDName between the versions of Conversions.
type ConversionBinding struct {
	Name                 string
	CRDName              string
	Conversions          []ConversionRule
	IncludeSnapshotsFrom []string
	Group                string
}

// ConversionRule is one step a conversion hook performs.
type ConversionRule struct {
	FromVersion string `json:"fromVersion"`
	ToVersion   string `json:"toVersion"`
}

// admissionItem is the JSON shape of an admission binding item.
type admissionItem struct {
	Name                 string                           `json:"name"`
	IncludeSnapshotsFrom []string                         `json:"includeSnapshotsFrom,omitempty"`
	Group                string                           `json:"group,omitempty"`
	Rules                []admissionv1.RuleWithOperations `json:"rules,omitempty"`
	FailurePolicy        string                           `json:"failurePolicy,omitempty"`
	SideEffects          string                           `json:"sideEffects,omitempty"`
	TimeoutSeconds       *int32                           `json:"timeoutSeconds,omitempty"`
	MatchConditions      []admissionv1.MatchCondition     `json:"matchConditions,omitempty"`
	LabelSelector        *metav1.LabelSelector            `json:"labelSelector,omitempty"`
	Namespace            *struct {
		LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	} `json:"namespace,omitempty"`
}

type conversionItem struct {
	Name                 string           `json:"name"`
	CRDName              string           `json:"crdName"`
	Conversions          []ConversionRule `json:"conversions"`
	IncludeSnapshotsFrom []string         `json:"includeSnapshotsFrom,omitempty"`
	Group                string           `json:"group,omitempty"`
}

// strictDecode decodes a config item into out, refusing unknown fields; the
// error names the field.
func strictDecode(v any, out any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

func (w *walker) admissionV1(path string, v any) (AdmissionBinding, bool) {
	var it admissionItem
	if err := strictDecode(v, &it); err != nil {
		w.fail(path, "%v", err)
		return AdmissionBinding{}, false
	}
	before := len(w.errs)
	// A webhook name must be a fully qualified DNS name: at least three
	// segments (the API server refuses the configuration otherwise).
	if it.Name == "" {
		w.fail(join(path, "name"), "is required")
	} else if strings.Count(it.Name, ".") < 2 {
		w.fail(join(path, "name"), "%q must be a DNS name with at least three segments, like policy.example.com", it.Name)
	}
	if len(it.Rules) == 0 {
		w.fail(join(path, "rules"), "must have at least 1 item(s)")
	}
	b := AdmissionBinding{
		Name: it.Name, IncludeSnapshotsFrom: it.IncludeSnapshotsFrom, Group: it.Group, Rules: it.Rules,
		FailurePolicy: admissionv1.Fail, SideEffects: admissionv1.SideEffectClassNone, TimeoutSeconds: 10,
		MatchConditions: it.MatchConditions, ObjectSelector: it.LabelSelector,
	}
	switch it.FailurePolicy {
	case "", "Fail":
	case "Ignore":
		b.FailurePolicy = admissionv1.Ignore
	default:
		w.fail(join(path, "failurePolicy"), "%q is not Ignore or Fail", it.FailurePolicy)
	}
	switch it.SideEffects {
	case "", "None":
	case "NoneOnDryRun":
		b.SideEffects = admissionv1.SideEffectClassNoneOnDryRun
	default:
		w.fail(join(path, "sideEffects"), "%q is not None or NoneOnDryRun", it.SideEffects)
	}
	if it.TimeoutSeconds != nil {
		if *it.TimeoutSeconds < 1 || *it.TimeoutSeconds > 30 {
			w.fail(join(path, "timeoutSeconds"), "must be between 1 and 30, got %d", *it.TimeoutSeconds)
		}
		b.TimeoutSeconds = *it.TimeoutSeconds
	}
	if it.Namespace != nil {
		b.NamespaceSelector = it.Namespace.LabelSelector
	}
	return b, len(w.errs) == before
}

func (w *walker) conversionV1(path string, v any) (ConversionBinding, bool) {
	var it conversionItem
	if err := strictDecode(v, &it); err != nil {
		w.fail(path, "%v", err)
		return ConversionBinding{}, false
	}
	before := len(w.errs)
	if it.Name == "" {
		w.fail(join(path, "name"), "is required")
	}
	if it.CRDName == "" {
		w.fail(join(path, "crdName"), "is required")
	}
	if len(it.Conversions) == 0 {
		w.fail(join(path, "conversions"), "must have at least 1 item(s)")
	}
	for i, c := range it.Conversions {
		if c.FromVersion == "" || c.ToVersion == "" {
			w.fail(index(join(path, "conversions"), i), "fromVersion and toVersion are required")
		}
	}
	return ConversionBinding{Name: it.Name, CRDName: it.CRDName, Conversions: it.Conversions, IncludeSnapshotsFrom: it.IncludeSnapshotsFrom, Group: it.Group}, len(w.errs) == before
}

// webhookBindings reads the three webhook binding lists of a v1 config.
func (w *walker) webhookBindings(top map[string]any, cfg *Config) {
	read := func(key string, f func(path string, item any)) {
		v, ok := top[key]
		if !ok {
			return
		}
		items, _ := w.list(key, v, 1)
		for i, item := range items {
			f(index(key, i), item)
		}
	}
	read(string(BindingValidating), func(p string, item any) {
		if b, ok := w.admissionV1(p, item); ok {
			cfg.Validating = append(cfg.Validating, b)
		}
	})
	read(string(BindingMutating), func(p string, item any) {
		if b, ok := w.admissionV1(p, item); ok {
			cfg.Mutating = append(cfg.Mutating, b)
		}
	})
	read(string(BindingConversion), func(p string, item any) {
		if b, ok := w.conversionV1(p, item); ok {
			cfg.Conversion = append(cfg.Conversion, b)
		}
	})
}

// HasWebhooks reports whether the config has admission or conversion bindings.
func (c Config) HasWebhooks() bool {
	return len(c.Validating)+len(c.Mutating)+len(c.Conversion) > 0
}

// AdmissionContext is the binding context of an admission request.
func AdmissionContext(b AdmissionBinding, mutating bool, review json.RawMessage) BindingContext {
	bt, typ := BindingValidating, TypeValidating
	if mutating {
		bt, typ = BindingMutating, TypeMutating
	}
	return BindingContext{Binding: b.Name, BindingType: bt, Type: typ, Review: review, IncludeSnapshots: b.IncludeSnapshotsFrom}
}

// ConversionContext is the binding context of one conversion step.
func ConversionContext(b ConversionBinding, from, to string, review json.RawMessage) BindingContext {
	return BindingContext{Binding: b.Name, BindingType: BindingConversion, Type: TypeConversion, FromVersion: from, ToVersion: to, Review: review, IncludeSnapshots: b.IncludeSnapshotsFrom}
}

// webhookFieldsV1 writes the keys of a webhook context.
func (bc BindingContext) webhookFieldsV1(out jsonObject) error {
	out["type"] = jsonString(string(bc.Type))
	if bc.Type == TypeConversion {
		out["fromVersion"] = jsonString(bc.FromVersion)
		out["toVersion"] = jsonString(bc.ToVersion)
	}
	if len(bc.Review) > 0 {
		if !json.Valid(bc.Review) {
			return fmt.Errorf("review is not valid JSON")
		}
		out["review"] = bc.Review
	}
	return nil
}
