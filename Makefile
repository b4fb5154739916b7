# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step
# of those two.
SHELL := /bin/bash
GO    ?= go
CACHE ?= $(HOME)/.cache/noor
export PATH := $(CACHE)/bin:$(PATH)
export TEMPORAL_CLI ?= $(CACHE)/bin/temporal

PKGS := ./...

.PHONY: run test tools build check fmt vet workflowcheck gotest bench clean help

help:
	@echo "make run    start the whole product locally (PostgreSQL, Temporal, API, worker, console)"
	@echo "make test   vet, gofmt, workflowcheck and every test against a real PostgreSQL + Temporal"
	@echo "make bench  the benchmarks behind BENCHMARKS.md"

## run: installs what is missing, then starts everything and prints the URLs.
run: tools build
	./bin/noor dev

## test: the same set-up on its own ports and data, then the checks and all tests.
test: tools build check gotest

tools:
	@scripts/bootstrap.sh

build:
	@$(GO) build -o bin/noor ./cmd/noor

check: fmt vet workflowcheck

fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi; echo "✔ gofmt"

vet:
	@$(GO) vet $(PKGS) && echo "✔ go vet"

workflowcheck:
	@workflowcheck -config workflowcheck.config.yaml ./workflows/... && echo "✔ workflowcheck"

gotest:
	./bin/noor testenv -- $(GO) test -race -count=1 -timeout 25m $(PKGS)

bench: tools build
	./bin/noor testenv -- $(GO) test -run '^$$' -bench . -benchtime 3s ./...

clean:
	rm -rf bin .data/test .data/test-services.log
