package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names, phases, labels and annotations of ModuleRelease that clients match on.
const (
	ModuleReleaseKind     = "ModuleRelease"
	ModuleReleaseResource = "modulereleases"

	ModuleReleasePhasePending     = "Pending"
	ModuleReleasePhaseDeployed    = "Deployed"
	ModuleReleasePhaseSuperseded  = "Superseded"
	ModuleReleasePhaseSuspended   = "Suspended"
	ModuleReleasePhaseSkipped     = "Skipped"
	ModuleReleasePhaseTerminating = "Terminating"

	LabelModule          = "module"
	LabelSource          = "source"
	LabelStatus          = "status"
	LabelReleaseChecksum = "release-checksum"
	LabelUpdatePolicy    = "modules.deckhouse.io/update-policy"

	AnnotationApproved  = "modules.deckhouse.io/approved"
	AnnotationApplyNow  = "modules.deckhouse.io/apply-now"
	AnnotationForce     = "modules.deckhouse.io/force"
	AnnotationReinstall = "modules.deckhouse.io/reinstall"
	AnnotationUpdating  = "modules.deckhouse.io/isUpdating"
	AnnotationNotified  = "modules.deckhouse.io/notified"

	FinalizerExistOnFS = "modules.deckhouse.io/exist-on-fs"
)

// ModuleRelease is one version of a module from a source, named
// <module>-v<X.Y.Z>. deckhand creates it; users approve it with
// annotations.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=mr
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="phase",type=string,JSONPath=`.status.phase`,description="Current release status."
// +kubebuilder:printcolumn:name="update policy",type=string,JSONPath=`.metadata.labels.modules\.deckhouse\.io/update-policy`,description="Associated update policy."
// +kubebuilder:printcolumn:name="transitionTime",type=date,format=date-time,JSONPath=`.status.transitionTime`,description="When the release status was changed."
// +kubebuilder:printcolumn:name="message",type=string,JSONPath=`.status.message`,description="Release status details."
type ModuleRelease struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ModuleReleaseSpec `json:"spec"`

	// +optional
	Status ModuleReleaseStatus `json:"status,omitempty"`
}

// ModuleReleaseSpec is the release as published.
type ModuleReleaseSpec struct {
	// ModuleName is the module released.
	ModuleName string `json:"moduleName"`

	// Version is the release version, e.g. v1.0.0.
	Version string `json:"version"`

	// Weight is the module weight from module.yaml.
	// +optional
	Weight uint32 `json:"weight,omitempty"`

	// ApplyAfter delays the deployment until then (canary release).
	// +optional
	ApplyAfter *metav1.Time `json:"applyAfter,omitempty"`

	// Requirements must hold for the release to deploy. Older releases hold
	// a flat map, which is kept.
	// +optional
	Requirements *ModuleReleaseRequirements `json:"requirements,omitempty"`

	// Update holds from-to rules that let an update skip minor versions.
	// +optional
	Update *ModuleReleaseUpdate `json:"update,omitempty"`

	// UpdateConstraints is Update under the name one DKP revision used.
	// +optional
	UpdateConstraints *ModuleReleaseUpdate `json:"updateConstraints,omitempty"`

	// Changelog is the release changelog (changelog.yaml).
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	Changelog *apiextensionsv1.JSON `json:"changelog,omitempty"`
}

// ModuleReleaseRequirements are the requirements of a release.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ModuleReleaseRequirements struct {
	// Deckhouse is the required Deckhouse version constraint.
	// +optional
	Deckhouse string `json:"deckhouse,omitempty"`

	// Kubernetes is the required Kubernetes version constraint.
	// +optional
	Kubernetes string `json:"kubernetes,omitempty"`

	// Modules maps a module that must be enabled to a version constraint.
	// +optional
	Modules map[string]string `json:"modules,omitempty"`
}

// ModuleReleaseUpdate holds from-to update rules.
type ModuleReleaseUpdate struct {
	// +optional
	Versions []ModuleReleaseUpdateVersion `json:"versions,omitempty"`
}

// ModuleReleaseUpdateVersion lets a module at From or later update straight
// to To.
type ModuleReleaseUpdateVersion struct {
	// From is the lowest version allowed to update from.
	From string `json:"from"`
	// To is the version reached.
	To string `json:"to"`
}

// ModuleReleaseStatus is the state of a release.
type ModuleReleaseStatus struct {
	// Phase of the release.
	// +optional
	// +kubebuilder:validation:Enum=Pending;Deployed;Superseded;Suspended;Skipped;Terminating
	Phase string `json:"phase,omitempty"`

	// Message is the status or error message.
	// +optional
	Message string `json:"message,omitempty"`

	// TransitionTime is when the phase last changed.
	// +optional
	TransitionTime *metav1.Time `json:"transitionTime,omitempty"`

	// Approved: the release may be deployed (Manual update mode).
	// +optional
	Approved bool `json:"approved,omitempty"`

	// Size is the size of the module image in bytes.
	// +optional
	Size int64 `json:"size,omitempty"`

	// PullDuration is how long the module image took to pull.
	// +optional
	PullDuration *metav1.Duration `json:"pullDuration,omitempty"`

	// Conditions are deckhand's observations of the release.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ModuleReleaseList is a list of ModuleRelease.
//
// +kubebuilder:object:root=true
type ModuleReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ModuleRelease `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ModuleRelease{}, &ModuleReleaseList{})
}
