#!/usr/bin/env bash
# Builds (once per machine, cached outside the repo) the kube-apiserver and etcd
# the tests use, before `go test` runs packages in parallel, so the build's
# progress is shown once instead of inside a silent test binary.
set -euo pipefail
go run ./cmd/deckhand dev prepare
