# deckhand: the two commands a new machine needs are `make dev` and `make test`.
# Everything they need is installed here; nothing is expected to be there by hand.

GO            ?= go
BIN           := bin
GOLANGCI_VER  := v2.15.0
GOLANGCI      := $(shell $(GO) env GOPATH)/bin/golangci-lint-$(GOLANGCI_VER)
TEST_TIMEOUT  ?= 60m
PKGS          := ./...
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT        ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS       := -X github.com/deckhand-dev/deckhand/internal/buildinfo.Version=$(VERSION) \
                 -X github.com/deckhand-dev/deckhand/internal/buildinfo.Commit=$(COMMIT)

# No cgo, for every target: Helm links kustomize, which imports Go's plugin
# package, and with cgo on the linker then exports every symbol for plugins:
# 22 MB more of dynamic symbol tables in the loaded image, ~20 MiB more RSS in
# every deckhand process. One setting for tests and binaries also means one
# compile of every package, not two.
export CGO_ENABLED := 0

.PHONY: all build dev test test-short setup lint fmt vet bench clean generate fuzz

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/deckhand ./cmd/deckhand

## setup: install what the tests and `deckhand dev` need (Debian's docker-registry).
setup:
	@bash hack/setup.sh

## dev: a real kube-apiserver + etcd and a registry on this machine, until Ctrl-C.
dev: setup build
	./$(BIN)/deckhand dev

## test: every test, integration included (real API server, real registries).
test: setup vet
	@bash hack/prebuild-kube.sh
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

test-short: vet
	$(GO) test -count=1 -short $(PKGS)

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## lint: gofmt, go vet and golangci-lint (installed from the Go module proxy).
lint: vet $(GOLANGCI)
	$(GOLANGCI) run $(PKGS)

$(GOLANGCI):
	GOBIN=$(CURDIR)/$(BIN)/tools $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VER)
	mkdir -p $(dir $(GOLANGCI)) && mv $(BIN)/tools/golangci-lint $(GOLANGCI)

## generate: deepcopy and CRD YAML from the API types in api/ (controller-gen, go.mod tool).
generate:
	GO=$(GO) bash hack/generate.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

## fuzz: run every fuzz target for FUZZTIME each (default 30s); crashes land in testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	GO=$(GO) bash hack/fuzz.sh $(FUZZTIME)

## bench: the benchmarks in bench/, figures go to bench/RESULTS.md.
bench: setup
	@bash hack/prebuild-kube.sh
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 60m ./bench/...

clean:
	rm -rf $(BIN)
