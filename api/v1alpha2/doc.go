// Package v1alpha2 is deckhouse.io/v1alpha2: ModuleUpdatePolicy and
// ModulePullOverride, the versions stored in etcd. See package api for the
// rules of this tree (no internal/ imports; regenerate with `make generate`).
//
// # ModuleUpdatePolicy v1alpha1 <-> v1alpha2
//
// Both versions are served and the CRD converts between them with strategy
// None, as DKP does: the API server only rewrites apiVersion, then prunes
// the object against the target schema. That is enough for everything DKP
// manifests do today (v1alpha2 objects, and v1alpha1 objects read back as
// v1alpha1 policies by name), but the schemas are not fully compatible:
//
//   - spec.moduleReleaseSelector (v1alpha1, required) has no v1alpha2 field,
//     so it is pruned when a v1alpha1 object is stored, and a v1alpha1 read
//     comes back without it; writing that object back through v1alpha1
//     fails validation until the selector is set again.
//   - update.mode Ignore exists only in v1alpha1. It is stored as is, so a
//     v1alpha2 client can read mode Ignore, which v1alpha2 validation would
//     reject on the next write.
//   - update.mode defaults to AutoPatch in v1alpha1 and Auto in v1alpha2;
//     the default is applied in the version of the request.
//
// Keeping the selector across versions needs a conversion webhook (or a
// v1alpha2 field to carry it, which DKP does not have). deckhand binds
// policies by name from ModuleConfig.spec.updatePolicy, so it does not use
// the selector.
//
// +kubebuilder:object:generate=true
// +groupName=deckhouse.io
package v1alpha2
