# Everything needs only Go: the tools are installed into bin/ on first use.

GO ?= go

TEMPORAL_CLI_VERSION := v1.5.1
STATICCHECK_VERSION := v0.8.2

TEMPORAL := bin/temporal
STATICCHECK := bin/staticcheck

.PHONY: all demo deps test race lint fuzz stress bench bench-docs

all: test

# The Temporal CLI carries the dev server. Built once (a few minutes, cold),
# then reused.
$(TEMPORAL):
	GOBIN=$(CURDIR)/bin $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

$(STATICCHECK):
	GOBIN=$(CURDIR)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

demo: $(TEMPORAL)
	TEMPORAL_CLI=$(CURDIR)/$(TEMPORAL) $(GO) run ./cmd/demo

# System packages the tests run against, from Debian: SoftHSM2 for the
# PKCS#11 key source, headless Chromium for the Web UI test. Each script
# does nothing when already installed; installing needs root or sudo.
deps:
	scripts/install-softhsm.sh
	scripts/install-chromium.sh

test: lint deps $(TEMPORAL)
	TEMPORAL_CLI=$(CURDIR)/$(TEMPORAL) $(GO) test -timeout 15m ./...
	$(MAKE) race

# The codec and its shared key machinery under the race detector:
# concurrent encode and decode, key rotation, pools and zstd (cases C18
# and C19 at reduced counts), the data-key cache. The cloud providers are
# thin clients over codec/kms and are left out to keep CI short.
RACE_PKGS := ./codec/ ./codec/envkey/ ./codec/internal/... ./codec/kms/ ./codec/keyring/
race:
	$(GO) test -race -timeout 10m $(RACE_PKGS) ./codecserver/

# Every fuzz target for FUZZTIME each (about 10 targets: a few minutes).
FUZZTIME ?= 15s
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

# The case scenarios at their full counts (64 goroutines x 10,000 round
# trips per algorithm, 10^5 zstd calls, 10^6 nonces), under -race. Slow.
stress:
	TEMPORAL_ENCRYPTION_STRESS=1 $(GO) test -race -timeout 60m -run 'TestC1[6-9]' -v ./codec/

lint: $(STATICCHECK)
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Benchmarks against the raw AEAD and the baselines: 7 to 12 minutes on 2
# cores; results, the benchstat table and charts in results/bench/ (see
# docs/benchmarks.md). BENCHFLAGS=--quick checks the pipeline in a minute.
bench: $(TEMPORAL)
	TEMPORAL_CLI=$(CURDIR)/$(TEMPORAL) scripts/bench.sh $(BENCHFLAGS)

# Publish the last results into docs/benchmarks.md and docs/img/.
bench-docs:
	scripts/bench.sh --report-only --publish
