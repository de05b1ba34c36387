// Package helm renders (and, for the runtime, applies) module charts through
// the Helm v4 Go SDK; no helm binary and, for rendering, no cluster.
//
// It takes a chart directory and a values tree; it knows nothing about module
// metadata or schemas and must not import internal/module, internal/values or
// internal/runtime.
package helm
