package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names, phases, condition types and reasons of Module that clients match on.
const (
	ModuleKind     = "Module"
	ModuleResource = "modules"

	// ModuleSourceEmbedded is properties.source of a built-in module.
	ModuleSourceEmbedded = "Embedded"
)

// Module phases (status.phase).
const (
	ModulePhaseUnavailable      = "Unavailable"
	ModulePhaseAvailable        = "Available"
	ModulePhaseDownloading      = "Downloading"
	ModulePhaseDownloadingError = "DownloadingError"
	ModulePhaseDownloaded       = "Downloaded"
	ModulePhaseInstalling       = "Installing"
	ModulePhaseReconciling      = "Reconciling"
	ModulePhaseHooksDisabled    = "HooksDisabled"
	ModulePhaseWaitSyncTasks    = "WaitSyncTasks"
	ModulePhaseConflict         = "Conflict"
	ModulePhaseReady            = "Ready"
	ModulePhaseError            = "Error"
)

// Module condition types (status.conditions[].type).
const (
	ModuleConditionEnabledByModuleConfig  = "EnabledByModuleConfig"
	ModuleConditionEnabledByModuleManager = "EnabledByModuleManager"
	ModuleConditionLastReleaseDeployed    = "LastReleaseDeployed"
	ModuleConditionIsReady                = "IsReady"
	ModuleConditionIsOverridden           = "IsOverridden"
)

// Module is a module known to the cluster: its properties (from module.yaml
// and its source) and its state. deckhand creates and updates it; it has no
// spec.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Weight",type=integer,JSONPath=`.properties.weight`,description="Module weight"
// +kubebuilder:printcolumn:name="Stage",type=string,JSONPath=`.properties.stage`,description="Module stage"
// +kubebuilder:printcolumn:name="Release channel",type=string,JSONPath=`.properties.releaseChannel`,priority=1,description="Release channel of the module."
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.properties.source`,description="Source of the module it provided by one."
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.properties.version`,priority=1,description="Module version."
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`,description="Module phase."
// +kubebuilder:printcolumn:name="Enabled",type=string,JSONPath=`.status.conditions[?(@.type=='EnabledByModuleManager')].status`,description="Module's enabled status."
// +kubebuilder:printcolumn:name="Disabled Message",type=string,JSONPath=`.status.conditions[?(@.type=='EnabledByModuleManager')].message`,priority=1,description="Module's enabled information."
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=='IsReady')].status`,description="Module's ready status."
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Module struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Properties ModuleProperties `json:"properties,omitempty"`

	// +optional
	Status ModuleStatus `json:"status,omitempty"`
}

// ModuleProperties describe a module: module.yaml plus where it comes from.
type ModuleProperties struct {
	// Weight is the module weight (order of running).
	// +optional
	Weight uint32 `json:"weight,omitempty"`

	// Source is the ModuleSource the module is taken from; "Embedded" for a
	// built-in module, empty when not chosen yet.
	// +optional
	Source string `json:"source,omitempty"`

	// ReleaseChannel is the module's release channel.
	// +optional
	ReleaseChannel string `json:"releaseChannel,omitempty"`

	// Stage is the module lifecycle stage (module.yaml stage).
	// +optional
	Stage string `json:"stage,omitempty"`

	// Critical modules run first and block the rest until ready.
	// +optional
	Critical bool `json:"critical,omitempty"`

	// Namespace is the module namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Subsystems the module belongs to.
	// +optional
	Subsystems []string `json:"subsystems,omitempty"`

	// Version is the module version in use.
	// +optional
	Version string `json:"version,omitempty"`

	// UpdatePolicy is the ModuleUpdatePolicy in effect.
	// +optional
	UpdatePolicy string `json:"updatePolicy,omitempty"`

	// ExclusiveGroup: only one module of a group may be enabled at a time.
	// +optional
	ExclusiveGroup string `json:"exclusiveGroup,omitempty"`

	// AvailableSources are the ModuleSources offering the module.
	// +optional
	AvailableSources []string `json:"availableSources,omitempty"`

	// Requirements must hold for the module to run.
	// +optional
	Requirements *ModuleRequirements `json:"requirements,omitempty"`

	// DisableOptions protect the module from being disabled by mistake.
	// +optional
	DisableOptions *ModuleDisableOptions `json:"disableOptions,omitempty"`

	// Accessibility says in which editions the module is available.
	// +optional
	Accessibility *ModuleAccessibility `json:"accessibility,omitempty"`
}

// ModuleRequirements are a module's requirements (module.yaml requirements).
//
// +kubebuilder:pruning:PreserveUnknownFields
type ModuleRequirements struct {
	// Deckhouse is the required Deckhouse version constraint.
	// +optional
	Deckhouse string `json:"deckhouse,omitempty"`

	// Kubernetes is the required Kubernetes version constraint.
	// +optional
	Kubernetes string `json:"kubernetes,omitempty"`

	// Bootstrapped is the required cluster installation status (built-in
	// modules only).
	// +optional
	Bootstrapped string `json:"bootstrapped,omitempty"`

	// Modules maps a required module to a version constraint.
	// +optional
	Modules map[string]string `json:"modules,omitempty"`
}

// ModuleDisableOptions are module.yaml disable options.
type ModuleDisableOptions struct {
	// Confirmation: disabling needs the allow-disabling annotation on the
	// ModuleConfig.
	// +optional
	Confirmation bool `json:"confirmation,omitempty"`

	// Message shown when disabling. Deprecated: use Messages.
	// +optional
	Message string `json:"message,omitempty"`

	// Messages are Message per language.
	// +optional
	Messages *ModuleDisableMessages `json:"messages,omitempty"`
}

// ModuleDisableMessages is a disable warning per language.
type ModuleDisableMessages struct {
	// +optional
	En string `json:"en,omitempty"`
	// +optional
	Ru string `json:"ru,omitempty"`
}

// ModuleAccessibility says in which editions a module is available.
type ModuleAccessibility struct {
	// Editions maps an edition name to the module's availability there.
	// +optional
	Editions map[string]ModuleEdition `json:"editions,omitempty"`
}

// ModuleEdition is a module's availability in one edition.
type ModuleEdition struct {
	// +optional
	Available bool `json:"available,omitempty"`
	// +optional
	EnabledInBundles []string `json:"enabledInBundles,omitempty"`
}

// ModuleStatus is the state of a module.
type ModuleStatus struct {
	// Phase of the module.
	// +optional
	// +kubebuilder:validation:Enum=Unavailable;Available;Downloading;DownloadingError;Reconciling;Installing;HooksDisabled;WaitSyncTasks;Downloaded;Conflict;Ready;Error
	Phase string `json:"phase,omitempty"`

	// HooksState is the hooks status report.
	// +optional
	HooksState string `json:"hooksState,omitempty"`

	// Conditions: EnabledByModuleConfig, EnabledByModuleManager,
	// LastReleaseDeployed, IsReady, IsOverridden.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchMergeKey=type
	// +patchStrategy=merge
	Conditions []ModuleCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// ValuesChecksum is the checksum of the values the module last ran
	// with (deckhand).
	// +optional
	ValuesChecksum string `json:"valuesChecksum,omitempty"`

	// ReleaseRevision is the revision of the module's Helm release last
	// installed (deckhand).
	// +optional
	ReleaseRevision int `json:"releaseRevision,omitempty"`

	// LastError is the last failure of a hook or a template render or
	// install (deckhand); empty when the last run succeeded.
	// +optional
	LastError *ModuleError `json:"lastError,omitempty"`
}

// ModuleCondition is one condition of a Module, in DKP's form (it has
// lastProbeTime, unlike metav1.Condition).
type ModuleCondition struct {
	// Type of the condition.
	Type string `json:"type"`

	// Status is True, False or Unknown.
	Status metav1.ConditionStatus `json:"status"`

	// Reason is a CamelCase reason for the last transition.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message is a human readable message.
	// +optional
	Message string `json:"message,omitempty"`

	// LastProbeTime is when the condition was last checked.
	// +optional
	LastProbeTime *metav1.Time `json:"lastProbeTime,omitempty"`

	// LastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// ModuleError is where and why a module last failed.
type ModuleError struct {
	// Hook is the hook that failed, if a hook failed.
	// +optional
	Hook string `json:"hook,omitempty"`

	// Template is the template that failed to render or install, if one did.
	// +optional
	Template string `json:"template,omitempty"`

	// Message is the error.
	Message string `json:"message"`

	// Time is when it happened.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// ModuleList is a list of Module.
//
// +kubebuilder:object:root=true
type ModuleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Module `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Module{}, &ModuleList{})
}

// Condition returns the condition of type t, or nil.
func (s *ModuleStatus) Condition(t string) *ModuleCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}
