package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names and update modes of ModuleUpdatePolicy.
const (
	ModuleUpdatePolicyKind     = "ModuleUpdatePolicy"
	ModuleUpdatePolicyResource = "moduleupdatepolicies"

	UpdateModeAuto      = "Auto"
	UpdateModeManual    = "Manual"
	UpdateModeAutoPatch = "AutoPatch"
	// UpdateModeIgnore (v1alpha1 only) stops downloading and updating.
	UpdateModeIgnore = "Ignore"
)

// ModuleUpdatePolicy (v1alpha1, deprecated) sets the release channel and
// update mode of the modules whose ModuleReleases its selector matches.
// It is served but stored as v1alpha2; see package api/v1alpha2 for what the
// conversion keeps.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=mup
// +kubebuilder:subresource:status
// +kubebuilder:deprecatedversion
// +kubebuilder:printcolumn:name="release channel",type=string,JSONPath=`.spec.releaseChannel`,description="Module release channel."
// +kubebuilder:printcolumn:name="update mode",type=string,JSONPath=`.spec.update.mode`,description="Module release update mode."
// +kubebuilder:printcolumn:name="update windows",type=string,JSONPath=`.spec.update.windows`,priority=1,description="Module release update windows."
type ModuleUpdatePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ModuleUpdatePolicySpec `json:"spec"`

	// +optional
	Status ModuleUpdatePolicyStatus `json:"status,omitempty"`
}

// ModuleUpdatePolicySpec is the v1alpha1 policy.
type ModuleUpdatePolicySpec struct {
	// ReleaseChannel is the desired release channel.
	// +optional
	// +kubebuilder:default=Stable
	// +kubebuilder:validation:Enum=Alpha;Beta;EarlyAccess;Stable;RockSolid;Lts
	ReleaseChannel string `json:"releaseChannel,omitempty"`

	// Update is how releases are applied.
	// +kubebuilder:default={}
	Update ModuleUpdatePolicySpecUpdate `json:"update"`

	// ModuleReleaseSelector selects the ModuleReleases (labels source,
	// module) the policy applies to.
	ModuleReleaseSelector ModuleUpdatePolicySelector `json:"moduleReleaseSelector"`
}

// ModuleUpdatePolicySpecUpdate is the v1alpha1 update mode and windows.
type ModuleUpdatePolicySpecUpdate struct {
	// Mode is the update mode.
	// +optional
	// +kubebuilder:default=AutoPatch
	// +kubebuilder:validation:Enum=Auto;Manual;Ignore;AutoPatch
	Mode string `json:"mode,omitempty"`

	// Windows are when updates may be applied (UTC).
	// +optional
	Windows []UpdateWindow `json:"windows,omitempty"`
}

// UpdateWindow is a time window, in UTC, in which updates may be applied.
type UpdateWindow struct {
	// From is the start, HH:MM.
	// +kubebuilder:validation:Pattern=`^(?:\d|[01]\d|2[0-3]):[0-5]\d$`
	From string `json:"from"`

	// To is the end, HH:MM.
	// +kubebuilder:validation:Pattern=`^(?:\d|[01]\d|2[0-3]):[0-5]\d$`
	To string `json:"to"`

	// Days the window applies on; every day when empty.
	// +optional
	Days []WeekDay `json:"days,omitempty"`
}

// WeekDay is a day of the week.
//
// +kubebuilder:validation:Enum=Mon;Tue;Wed;Thu;Fri;Sat;Sun
type WeekDay string

// ModuleUpdatePolicySelector selects ModuleReleases by label.
type ModuleUpdatePolicySelector struct {
	// LabelSelector over the ModuleRelease labels (source, module).
	LabelSelector metav1.LabelSelector `json:"labelSelector"`
}

// ModuleUpdatePolicyStatus is deckhand's report on a policy (DKP has none).
type ModuleUpdatePolicyStatus struct {
	// Message is additional information.
	// +optional
	Message string `json:"message,omitempty"`

	// Conditions are deckhand's observations of the policy.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ModuleUpdatePolicyList is a list of ModuleUpdatePolicy.
//
// +kubebuilder:object:root=true
type ModuleUpdatePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ModuleUpdatePolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ModuleUpdatePolicy{}, &ModuleUpdatePolicyList{})
}
