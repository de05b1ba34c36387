#!/usr/bin/env bash
# Installs what deckhand's tests and `deckhand dev` need on a Debian machine:
# Debian's docker-registry (Docker Registry v2 / Distribution 2.8). kube-apiserver
# and etcd are built from the Go module proxy by deckhand itself on first use.
set -euo pipefail
if command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing Debian's docker-registry (once per machine)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q docker-registry >/dev/null 2>&1 || {
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q docker-registry >/dev/null
}
# The package enables a service; deckhand starts its own registries on free ports.
$sudo systemctl disable --now docker-registry >/dev/null 2>&1 || true
command -v docker-registry >/dev/null
