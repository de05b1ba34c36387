#!/usr/bin/env bash
# Regenerates what is generated from the API types in api/:
#   api/v1alpha1/zz_generated.deepcopy.go, api/v1alpha2/zz_generated.deepcopy.go
#   api/crds/deckhouse.io_*.yaml
# with controller-gen from the go.mod tool block (`go tool controller-gen`).
#
# Usage: hack/generate.sh [OUTDIR]
#   no OUTDIR: write in place (what `make generate` does).
#   OUTDIR:    write into OUTDIR/<version>/ and OUTDIR/crds/ instead, leaving
#              the tree alone (TestGeneratedUpToDate in api/crds compares).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
VERSIONS=(v1alpha1 v1alpha2)
out=${1:-}

cg() { "$GO" tool controller-gen "$@"; }

if [[ -z $out ]]; then
	cg object paths=./api/...
	rm -f api/crds/deckhouse.io_*.yaml
	cg crd:crdVersions=v1 paths=./api/... output:crd:artifacts:config=api/crds
else
	mkdir -p "$out/crds"
	for v in "${VERSIONS[@]}"; do
		cg object paths="./api/$v" output:object:dir="$out/$v"
	done
	cg crd:crdVersions=v1 paths=./api/... output:crd:artifacts:config="$out/crds"
fi
