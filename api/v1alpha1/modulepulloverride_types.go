package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names of ModulePullOverride.
const (
	ModulePullOverrideKind     = "ModulePullOverride"
	ModulePullOverrideResource = "modulepulloverrides"
)

// ModulePullOverride (v1alpha1) is kept in the CRD, as in DKP, but not
// served: use v1alpha2, which has no spec.source.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=mpo
// +kubebuilder:subresource:status
// +kubebuilder:unservedversion
// +kubebuilder:deprecatedversion
// +kubebuilder:printcolumn:name="Updated",type=date,format=date-time,JSONPath=`.status.updatedAt`,description="When the module was last updated."
// +kubebuilder:printcolumn:name="msg",type=string,JSONPath=`.status.message`,description="Detailed description."
type ModulePullOverride struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ModulePullOverrideSpec `json:"spec"`

	// +optional
	Status ModulePullOverrideStatus `json:"status,omitempty"`
}

// ModulePullOverrideSpec is the v1alpha1 override.
type ModulePullOverrideSpec struct {
	// Source is the ModuleSource holding the module.
	Source string `json:"source"`

	// ImageTag is the module image tag to pull.
	ImageTag string `json:"imageTag"`

	// ScanInterval is how often the tag's digest is checked (h, m, s).
	// +optional
	// +kubebuilder:default="15s"
	// +kubebuilder:validation:Pattern=`^(\d+h)?(\d+m)?(\d+s)?$`
	ScanInterval string `json:"scanInterval,omitempty"`

	// Rollback: deleting the override rolls the module back to its release.
	// +optional
	// +kubebuilder:default=false
	Rollback bool `json:"rollback,omitempty"`
}

// ModulePullOverrideStatus is the state of an override.
type ModulePullOverrideStatus struct {
	// Message is the status, "Ready" or why not.
	// +optional
	Message string `json:"message,omitempty"`

	// UpdatedAt is when the module was last updated.
	// +optional
	UpdatedAt *metav1.Time `json:"updatedAt,omitempty"`

	// ImageDigest is the digest of the module image in use.
	// +optional
	ImageDigest string `json:"imageDigest,omitempty"`

	// Weight is the module weight.
	// +optional
	Weight uint32 `json:"weight,omitempty"`

	// Conditions are deckhand's observations of the override.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ModulePullOverrideList is a list of ModulePullOverride.
//
// +kubebuilder:object:root=true
type ModulePullOverrideList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ModulePullOverride `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ModulePullOverride{}, &ModulePullOverrideList{})
}
