// Package v1alpha1 is deckhouse.io/v1alpha1: ModuleConfig, Module,
// ModuleSource, ModuleRelease, and the deprecated v1alpha1 forms of
// ModuleUpdatePolicy and ModulePullOverride. See package api for the rules
// of this tree (no internal/ imports; regenerate with `make generate`).
//
// +kubebuilder:object:generate=true
// +groupName=deckhouse.io
package v1alpha1
