// Package helm renders module charts and installs, upgrades and uninstalls
// them as Helm releases through the Helm v4 Go SDK; no helm binary.
//
// Apply upgrades only when something changed: the checksum of the chart
// files and values (release label moduleChecksum, as addon-operator), a
// last release that is not deployed, or an object of the release missing
// from the cluster. A release left pending by a crash is marked failed and
// upgraded over.
//
// Adopting existing releases: releases made by Helm 3 or addon-operator are
// stored the same way (Secrets sh.helm.release.v1.<name>.v<N>), so their
// history is read as is. Upgrades use Helm's "auto" apply mode: a release
// first applied client-side stays client-side, so no field manager fights
// over its objects; releases deckhand installs are applied server-side.
// Objects that exist without a release record are taken over on install.
//
// How release history is stored: Helm's own Secret driver writes every
// record, through chunkedSecrets (chunked.go). A record that fits in one
// Secret is written exactly as Helm writes it. A larger one (the 1 MiB
// Secret limit stops Helm, Flux and DKP on modules with many CRDs) is split
// into chunk Secrets (type deckhand.io/release-chunk) written before the
// head Secret; the head keeps Helm's name and labels, an empty record, and
// annotations with the chunk count, a generation and the SHA-256 of the
// whole, so a partial or changed record is refused, never read as whole.
//
// It takes a chart directory and a values tree; it knows nothing about module
// metadata or schemas and must not import internal/module, internal/values or
// internal/runtime.
package helm
