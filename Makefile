# ratickets — run `make help` for the targets.
GO       ?= go
BIN      := bin/ratickets
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.buildVersion=$(VERSION)
FUZZTIME ?= 60s

.PHONY: help build test lint demo bench fuzz test-chaos clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/ratickets
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ratickets

test: ## run every test (race detector on), go vet, and every make bench benchmark once on a tiny world; starts its own PostgreSQL
	@bash scripts/ensure-postgres.sh >/dev/null
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	RATICKETS_BENCH_TICKETS=1000 $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./internal/e2e/ ./extract/ ./load/ ./transform/

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

demo: build ## run sync end to end on the simulator and a throwaway PostgreSQL
	@bash scripts/demo.sh

bench: build ## go test -bench: end to end, requests, loader, micro; benchstat output (see BENCHMARKS.md)
	@bash scripts/bench.sh

fuzz: ## run each fuzz target for FUZZTIME (default 60s)
	@for spec in $$(grep -rhoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | sort -u | sed 's/func //'); do \
	  pkg=$$(grep -rlE --include='*_test.go' "^func $$spec\(" . | head -1 | xargs dirname); \
	  echo "==> $$spec in $$pkg"; \
	  $(GO) test -run '^$$' -fuzz "^$$spec$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

test-chaos: ## SIGKILL soak: 100 random kill points against the real binary (~3 min)
	@bash scripts/ensure-postgres.sh >/dev/null
	RATICKETS_CHAOS=1 $(GO) test -count=1 -timeout 30m -run TestSIGKILLAtRandomPoints -v ./internal/e2e/

clean: ## remove build output
	rm -rf bin report.html
