# strata's front door. `make demo` sets everything up and shows the product;
# `make test` runs every test against real servers; `make bench` compares
# strata with restic on the same data; `make lint` checks style.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/strata
STATICCHECK_VERSION := v0.8.2

# Every Go module of the repository, as directories: `go test ./...` at the
# root stops at a nested module (integration/ferretdb has its own go.mod),
# so test and lint run in each. testdata fixtures (the lint's sample
# modules) and the servers' work directory are not ours to test.
MODULES := $(shell find . -name go.mod -not -path './integration/.work/*' -not -path './third_party/*' -not -path '*/testdata/*' -printf '%h\n' | sort)

# in-modules CMD: run CMD in each module, all of them even when one fails,
# then fail naming the modules where it failed.
in-modules = fail=; for m in $(MODULES); do echo "== $$m: $(1)"; (cd "$$m" && $(1)) || fail="$$fail $$m"; done; \
	if [ -n "$$fail" ]; then echo "$(1): failed in:$$fail" >&2; exit 1; fi

.PHONY: all build demo test test-unit bench lint servers-up servers-down deps clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/strata

# Builds, creates a local store and sample data, takes three versions,
# mounts, lists, diffs, restores with cp and verifies checksums, unmounts.
demo: build
	bash integration/demo.sh

# Installs what the tests need (idempotent, cached), starts the servers,
# runs unit and end-to-end tests. With CI=true a missing server or
# /dev/fuse fails the run instead of skipping tests.
test: deps build
	bash integration/servers.sh up
	@$(call in-modules,$(GO) test -count=1 -timeout 60m ./...)

# Unit tests only: no servers.
test-unit:
	@$(call in-modules,$(GO) test -count=1 -short ./...)

# The MongoDB part needs FerretDB; -mongo-size 0 in BENCHFLAGS skips it.
# deps: the servers the flags start, and rsync for the real tree part (a
# fresh machine has neither; the bench installs fuse3 itself).
bench: deps build
	bash integration/servers.sh up ferretdb
	@case "$(BENCHFLAGS)" in *-hdfs-*) bash integration/servers.sh up hdfs;; esac
	@case "$(BENCHFLAGS)" in *-sql-*) bash integration/servers.sh up postgres mariadb;; esac
	@case "$(BENCHFLAGS)" in *-cass-*) bash integration/servers.sh up cassandra;; esac
	$(GO) run ./integration/bench $(BENCHFLAGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	@fail=; for m in $(MODULES); do (cd "$$m" && $(GO) mod tidy -diff) || fail="$$fail $$m"; done; \
	if [ -n "$$fail" ]; then echo "go.mod/go.sum not tidy in:$$fail (the diff is above; run go mod tidy there)" >&2; exit 1; fi
	@$(call in-modules,$(GO) vet ./...)
	@# the Go encoder's fallback (index/format/chunkzstd_nocgo.go) must keep building
	CGO_ENABLED=0 $(GO) vet ./index/... ./cmd/...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@PATH="$$PATH:$$($(GO) env GOPATH)/bin"; $(call in-modules,staticcheck ./...)
	$(GO) run ./integration/lint

deps:
	bash integration/install-deps.sh

servers-up: deps
	bash integration/servers.sh up

servers-down:
	bash integration/servers.sh down

clean:
	rm -rf bin
