// Package helm renders module charts and installs, upgrades and uninstalls
// them as Helm releases through the Helm v4 Go SDK; no helm binary.
//
// Apply upgrades only when something changed: the checksum of the chart
// files, the crds/, the values and the objects rendered from them (with
// lookup and .Capabilities from the cluster), kept in the release label
// moduleChecksum as addon-operator does (its older values key
// _addonOperatorModuleChecksum is read too); a last release that is not
// deployed; or a rendered object or CRD missing from the cluster, which the
// upgrade puts back. A release left pending by a crash is marked failed and
// upgraded over. The chart's crds/ are server-side applied (created or
// updated) before the chart, and Apply waits until they are served. A
// failed upgrade is recorded failed and leaves the previous revision's
// objects in place (no rollback, no cleanup); Helm's error names the
// template or object.
//
// Adopting existing releases: Helm 3 and addon-operator stored releases the
// same way (Secrets sh.helm.release.v1.<name>.v<N>, type helm.sh/release.v1),
// so their history is read as is. They applied objects client-side, as the
// field managers "helm", the binary's name or "Go-http-client". Helm v4
// installs server-side; its upgrades default to "auto", which keeps the
// last record's apply method, and a Helm 3 record has none, so upgrades of
// an adopted release stay client-side: a three-way merge patch, which
// never conflicts with other managers (Helm refuses --force-conflicts
// there). Switching such a release to server-side apply would leave fields
// owned by the old managers behind when the chart drops them (Helm only
// migrates its own manager's fields), so deckhand does not. Releases
// deckhand installs are server-side, with force-conflicts: the module owns
// what its chart renders, and a field someone else set is taken back. The
// field manager is always "deckhand" (Helm would use the binary's name).
// An install adopts objects that exist without a release (Helm's
// take-ownership); an upgrade refuses objects owned by another release.
//
// How the release history is stored: Helm's own Secret driver writes every
// record, through chunkedSecrets (chunked.go), a Secret client under it. A
// record that fits in one Secret is written exactly as Helm writes it, so
// plain Helm reads it. A larger one (the 1 MiB Secret limit stops Helm,
// Flux and DKP on modules with many CRDs) is split: its encoded record
// (gzip, base64, as Helm encodes it) goes into chunk Secrets (type
// deckhand.io/release-chunk, labelled with the release name and version,
// never owner=helm) written before the head Secret; the head keeps Helm's
// name and labels, an empty record, and annotations with the chunk count,
// a generation and the SHA-256 of the whole, so a partial or changed record
// is refused, never read as whole. Deleting a head deletes its chunks.
//
// It takes a chart directory and a values tree; it knows nothing about module
// metadata or schemas and must not import internal/module, internal/values or
// internal/runtime.
package helm
