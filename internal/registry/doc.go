// Package registry owns the OCI side of a DKP module source: it turns a loaded
// module into the artifacts DKP reads (module bundle image, release image,
// channel tags, the module's index tag in the source), writes them to an OCI
// image layout or pushes them, and lists, inspects, pulls and safely unpacks
// what a source holds.
//
// Registry layout for source S and module m (the layout DKP's module CI
// writes and DKP reads):
//
//	S:m                       empty OCI image; the tag list of S is the catalogue
//	S/m:vX.Y.Z                module bundle: module tree at / + version.json, images_digests.json
//	S/m@sha256:...            container images named in images_digests.json
//	S/m/release:vX.Y.Z        release image: version.json, changelog.yaml, module.yaml, ...
//	S/m/release:<channel>     copy of one release:vX.Y.Z (alpha ... lts)
//	S/m:sha256-<hex>.sig      cosign signatures of the image with that digest
//
// Build makes Artifacts from a module loaded by internal/module (module.Load),
// so the module's name is the loader's: the registry adds no name rule of its
// own beyond what a repository name allows (RepositoryName). Builds are
// reproducible: sorted entries, epoch mtimes, uid/gid 0, modes 0644/0755 from
// the exec bit. PublishDir loads, builds and pushes every module under a
// directory. WriteLayout and ReadLayout move Artifacts through an OCI image
// layout; a Client pushes them, lists, inspects and pulls a source, moves
// channels, and implements Source for the release controller. A 401/403
// comes back as an AuthError telling missing credentials from rejected ones.
// CheckLogin, SaveLogin and Logout verify credentials and keep them in
// docker's config.json (through docker/cli's config package).
// UnpackTars/UnpackImage never write outside their target, swap a finished
// tree in atomically, and replace an existing non-empty directory only if
// their marker next to it (PullMarkerPath) names it, or when forced. A pull
// first checks the manifest and config against their media types and
// downloads every layer, verified against its descriptor, into a sibling
// directory; only then does it unpack. Broken-off downloads, 429 (with
// Retry-After) and 5xx are retried within the client's backoff.
//
// Sign and Verify keep cosign's signature layout (S/m:sha256-<digest>.sig,
// plus an OCI 1.1 referrer of the signed image) with keys read through
// Sigstore's libraries (LoadSigningKey, LoadVerifyKeys): what deckhand
// signs, cosign verifies, and the other way round.
//
// It reads module directories only through internal/module, talks to
// registries only through go-containerregistry, and must not import
// internal/release, internal/runtime, internal/lint or anything under cmd/.
package registry
