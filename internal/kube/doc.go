// Package kube owns deckhand's view of the cluster for hooks: monitors that
// list and watch the objects a kubernetes binding selects (with jq filters,
// checksums and a lean snapshot store), and the object patcher that applies
// the operations a hook writes to KUBERNETES_PATCH_PATH.
//
// It speaks to the API server only through client-go (dynamic client,
// discovery RESTMapper, reflectors, and a protobuf REST client for built-in
// kinds, see protobufWire). It must not import internal/hook,
// internal/runtime, internal/module or anything above them: callers map their
// binding configuration onto the plain WatchSpec defined here.
package kube
