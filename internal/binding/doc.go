// Package binding owns the one mapping between a hook's kubernetes binding
// (internal/hook) and the watch that serves it (internal/kube): the
// WatchSpec a binding asks for, and the objects a watch reports turned back
// into what a binding context carries. internal/hookserver (the running
// operator) and internal/moduletest (hook tests) both use it, so a hook sees
// the same objects in tests and in the cluster.
//
// It imports only internal/hook and internal/kube; it must not import
// internal/hookserver, internal/moduletest, internal/module or anything
// above them.
package binding
