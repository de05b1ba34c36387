package v1alpha1

import (
	"encoding/json"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names and annotations of ModuleConfig that clients match on.
const (
	ModuleConfigKind     = "ModuleConfig"
	ModuleConfigResource = "moduleconfigs"

	// GlobalModuleConfigName is the ModuleConfig holding the global settings.
	GlobalModuleConfigName = "global"

	// AnnotationAllowDisabling must be "true" to disable a module whose
	// module.yaml asks for disable confirmation.
	AnnotationAllowDisabling = "modules.deckhouse.io/allow-disabling"

	// FinalizerModuleRegistered is put on a ModuleConfig of a known module.
	FinalizerModuleRegistered = "modules.deckhouse.io/module-registered"

	// MaintenanceNoResourceReconciliation stops reconciling the module's
	// resources (development mode).
	MaintenanceNoResourceReconciliation = "NoResourceReconciliation"

	// ModuleConfigMessageUnknownModule is status.message of a ModuleConfig
	// naming no known module.
	ModuleConfigMessageUnknownModule = "Ignored: unknown module name"
)

// ModuleConfig configures one module (metadata.name is the module name) or,
// named "global", the global settings.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=mc
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Enabled",type=boolean,JSONPath=`.spec.enabled`,description="Module enabled state"
// +kubebuilder:printcolumn:name="UpdatePolicy",type=string,JSONPath=`.spec.updatePolicy`,priority=1,description="The update policy of the module."
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.source`,priority=1,description="The source of the module."
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.version`,description="Version of settings schema in use"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,description="Additional information"
type ModuleConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ModuleConfigSpec `json:"spec"`

	// +optional
	Status ModuleConfigStatus `json:"status,omitempty"`
}

// ModuleConfigSpec is what the user asks of a module.
type ModuleConfigSpec struct {
	// Enabled turns the module on or off. Unset leaves the decision to the
	// bundle (the module's default).
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// Version is the version of the settings schema the settings are written
	// for; older versions are converted (openapi/conversions).
	// +optional
	Version int `json:"version,omitempty"`

	// Settings are the module settings, validated against the module's
	// openapi/config-values.yaml.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	Settings *apiextensionsv1.JSON `json:"settings,omitempty"`

	// Source is the ModuleSource to take the module from when several offer it.
	// +optional
	Source string `json:"source,omitempty"`

	// UpdatePolicy is the name of the ModuleUpdatePolicy of the module.
	// +optional
	UpdatePolicy string `json:"updatePolicy,omitempty"`

	// Maintenance sets the module maintenance mode. NoResourceReconciliation:
	// configuration and hook changes are not reconciled and deleted resources
	// are not restored.
	// +optional
	// +kubebuilder:validation:Enum=NoResourceReconciliation
	Maintenance string `json:"maintenance,omitempty"`
}

// ModuleConfigStatus is what deckhand reports about a ModuleConfig.
type ModuleConfigStatus struct {
	// Version of the settings schema in use.
	// +optional
	Version string `json:"version,omitempty"`

	// Message is additional information, e.g. "Ignored: unknown module name".
	// +optional
	Message string `json:"message,omitempty"`

	// Conditions are deckhand's observations (settings valid, applied).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ModuleConfigList is a list of ModuleConfig.
//
// +kubebuilder:object:root=true
type ModuleConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ModuleConfig `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ModuleConfig{}, &ModuleConfigList{})
}

// IsEnabled reports spec.enabled; ok is false when it is unset.
func (s *ModuleConfigSpec) IsEnabled() (enabled, ok bool) {
	if s.Enabled == nil {
		return false, false
	}
	return *s.Enabled, true
}

// SettingsMap decodes spec.settings; it is nil when there are none.
func (s *ModuleConfigSpec) SettingsMap() (map[string]any, error) {
	if s.Settings == nil || len(s.Settings.Raw) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(s.Settings.Raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// SetSettings encodes m into spec.settings; a nil m clears them.
func (s *ModuleConfigSpec) SetSettings(m map[string]any) error {
	if m == nil {
		s.Settings = nil
		return nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	s.Settings = &apiextensionsv1.JSON{Raw: raw}
	return nil
}
