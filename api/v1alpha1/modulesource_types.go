package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names, annotations and finalizers of ModuleSource that clients match on.
const (
	ModuleSourceKind     = "ModuleSource"
	ModuleSourceResource = "modulesources"

	// ModuleSourcePhaseActive and ModuleSourcePhaseTerminating are status.phase values.
	ModuleSourcePhaseActive      = "Active"
	ModuleSourcePhaseTerminating = "Terminating"

	// AnnotationRegistrySpecChecksum is the md5 of spec.registry last applied.
	AnnotationRegistrySpecChecksum = "modules.deckhouse.io/registry-spec-checksum"
	// AnnotationForceDelete lets a source with deployed releases be deleted.
	AnnotationForceDelete = "modules.deckhouse.io/force-delete"

	FinalizerReleaseExists = "modules.deckhouse.io/release-exists"
	FinalizerModuleExists  = "modules.deckhouse.io/module-exists"
)

// ModuleSource is an OCI registry repository that modules are pulled from.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=ms
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="count",type=integer,JSONPath=`.status.modulesCount`,description="The number of modules available."
// +kubebuilder:printcolumn:name="status",type=string,JSONPath=`.status.phase`,description="The current phase."
// +kubebuilder:printcolumn:name="sync",type=date,format=date-time,JSONPath=`.status.syncTime`,description="When the repository was synchronized."
// +kubebuilder:printcolumn:name="msg",type=string,JSONPath=`.status.message`,description="The error message if exists."
type ModuleSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ModuleSourceSpec `json:"spec"`

	// +optional
	Status ModuleSourceStatus `json:"status,omitempty"`
}

// ModuleSourceSpec says where the modules are.
type ModuleSourceSpec struct {
	// Registry is the repository holding the modules.
	Registry ModuleSourceRegistry `json:"registry"`

	// ReleaseChannel is the default release channel of the source's modules.
	// Deprecated: use a ModuleUpdatePolicy.
	// +optional
	ReleaseChannel string `json:"releaseChannel,omitempty"`

	// Verification is a deckhand extension (DKP manifests leave it out):
	// the signatures the operator requires before it unpacks a module from
	// this source.
	// +optional
	Verification *ModuleSourceVerification `json:"verification,omitempty"`
}

// Verification modes of a ModuleSource.
const (
	VerificationEnforce = "Enforce"
	VerificationWarn    = "Warn"
	VerificationOff     = "Off"
)

// ModuleSourceVerification says which keys must sign a source's modules.
type ModuleSourceVerification struct {
	// Mode is Enforce (an unsigned, wrongly signed or tampered release is
	// Suspended and the running version stays), Warn (it deploys, with a
	// warning condition and event) or Off.
	// +kubebuilder:validation:Enum=Enforce;Warn;Off
	// +kubebuilder:default=Enforce
	// +optional
	Mode string `json:"mode,omitempty"`

	// PublicKeys are PEM public keys (ECDSA P-256 or ed25519); a signature
	// by any of them is accepted (several at once for key rotation).
	// +optional
	PublicKeys []string `json:"publicKeys,omitempty"`

	// PublicKeysSecretRef names a Secret whose data values are PEM public
	// keys, added to PublicKeys.
	// +optional
	PublicKeysSecretRef *SecretReference `json:"publicKeysSecretRef,omitempty"`
}

// SecretReference names a Secret.
type SecretReference struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// ModuleSourceRegistry is how to reach the registry.
type ModuleSourceRegistry struct {
	// Repo is the repository, e.g. registry.example.io/acme/modules.
	Repo string `json:"repo"`

	// DockerCfg is a base64 .dockerconfigjson; empty for anonymous access.
	// +optional
	DockerCfg string `json:"dockerCfg,omitempty"`

	// Scheme is the protocol to reach the registry.
	// +optional
	// +kubebuilder:default=HTTPS
	// +kubebuilder:validation:Enum=HTTP;HTTPS
	Scheme string `json:"scheme,omitempty"`

	// CA is a PEM root certificate to verify the registry with.
	// +optional
	CA string `json:"ca,omitempty"`
}

// ModuleSourceStatus is the result of the last sync of the source.
type ModuleSourceStatus struct {
	// SyncTime is when the source was last synchronized.
	// +optional
	SyncTime *metav1.Time `json:"syncTime,omitempty"`

	// ModulesCount is how many modules the source offers.
	// +optional
	ModulesCount int `json:"modulesCount,omitempty"`

	// Phase of the source.
	// +optional
	// +kubebuilder:validation:Enum=Active;Terminating
	Phase string `json:"phase,omitempty"`

	// Message is the error of the last sync, if any.
	// +optional
	Message string `json:"message,omitempty"`

	// Modules are the modules the source offers.
	// +optional
	Modules []AvailableModule `json:"modules,omitempty"`

	// ModuleErrors lists modules the source failed to process (older DKP
	// revisions; newer ones use modules[].pullError).
	// +optional
	ModuleErrors []ModuleSourceError `json:"moduleErrors,omitempty"`

	// Conditions are deckhand's observations of the source.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AvailableModule is one module a source offers.
type AvailableModule struct {
	// Name of the module.
	Name string `json:"name"`
	// Version of the module on the chosen channel.
	// +optional
	Version string `json:"version,omitempty"`
	// Policy is the ModuleUpdatePolicy of the module.
	// +optional
	Policy string `json:"policy,omitempty"`
	// Checksum of the module image.
	// +optional
	Checksum string `json:"checksum,omitempty"`
	// PullError is why the module could not be pulled.
	// +optional
	PullError string `json:"pullError,omitempty"`
	// Error is why the module could not be processed.
	// +optional
	Error string `json:"error,omitempty"`
	// Overridden is true while a ModulePullOverride exists for the module.
	// +optional
	Overridden bool `json:"overridden,omitempty"`
}

// ModuleSourceError is a module a source failed to process (the older
// status.moduleErrors form).
type ModuleSourceError struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

// ModuleSourceList is a list of ModuleSource.
//
// +kubebuilder:object:root=true
type ModuleSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ModuleSource `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ModuleSource{}, &ModuleSourceList{})
}
