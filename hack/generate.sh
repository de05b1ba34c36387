#!/usr/bin/env bash
# Regenerates what is generated from the API types in api/:
#   api/v1alpha1/zz_generated.deepcopy.go, api/v1alpha2/zz_generated.deepcopy.go
#   api/crds/deckhouse.io_*.yaml
#   deploy/helm/deckhand/crds/deckhouse.io_*.yaml (a copy of api/crds, in place only)
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
	# The Helm chart ships the same CRDs in its crds/; a copy, since Helm
	# cannot reach outside the chart (deploy/helm/deckhand/crds_test.go checks).
	chart_crds=deploy/helm/deckhand/crds
	mkdir -p "$chart_crds"
	rm -f "$chart_crds"/deckhouse.io_*.yaml
	cp api/crds/deckhouse.io_*.yaml "$chart_crds"/
else
	mkdir -p "$out/crds"
	for v in "${VERSIONS[@]}"; do
		cg object paths="./api/$v" output:object:dir="$out/$v"
	done
	cg crd:crdVersions=v1 paths=./api/... output:crd:artifacts:config="$out/crds"
fi
