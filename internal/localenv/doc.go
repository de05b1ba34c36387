// Package localenv runs the real parts of a Kubernetes platform on one machine:
// a kube-apiserver with etcd (started through controller-runtime's envtest) and
// an OCI registry (Docker Registry v2 or go-containerregistry's in-process one).
//
// The API server binaries are built from the Go module proxy on first use and
// cached outside the repository, so a fresh machine needs nothing installed by
// hand. localenv is used by `deckhand dev` and by internal/testenv; it imports
// nothing else from deckhand.
package localenv
