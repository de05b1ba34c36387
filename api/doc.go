// Package api holds deckhand's Kubernetes API: the Go types of the
// deckhouse.io custom resources (ModuleConfig, Module, ModuleSource,
// ModuleRelease, ModuleUpdatePolicy, ModulePullOverride) and the CRDs
// generated from them.
//
// Layout:
//
//   - api/v1alpha1: every kind at deckhouse.io/v1alpha1, including the
//     deprecated v1alpha1 ModuleUpdatePolicy (served, not stored) and
//     ModulePullOverride (kept in the CRD, not served), as DKP has them.
//   - api/v1alpha2: ModuleUpdatePolicy and ModulePullOverride, the versions
//     stored in etcd.
//   - api/crds: the CRD YAML generated from the types (checked in), embedded
//     in the binary, with CRDs() and Install().
//
// Group deckhouse.io, all kinds cluster-scoped: a manifest written for the
// Deckhouse Kubernetes Platform applies unchanged. Field names, JSON tags,
// enums, defaults, short names and printer columns follow DKP; deckhand adds
// status fields (conditions, and on Module valuesChecksum, releaseRevision,
// lastError) that DKP tools ignore.
//
// Rules for this tree:
//
//   - It must not import any deckhand internal/ package (tests excepted):
//     the runtime, `deckhand dev` and outside clients import api/, never the
//     other way round. Its only dependencies are k8s.io/apimachinery,
//     k8s.io/apiextensions-apiserver, k8s.io/client-go and
//     sigs.k8s.io/controller-runtime/pkg/scheme.
//   - zz_generated.deepcopy.go and api/crds/*.yaml are generated: change the
//     types (and their kubebuilder markers), then run `make generate`
//     (hack/generate.sh, controller-gen from the go.mod tool block).
//     TestGeneratedUpToDate in api/crds fails when they are stale.
package api
