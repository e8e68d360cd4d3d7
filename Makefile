# Everything needs only Go: the tools are installed into bin/ on first use.

GO ?= go

TEMPORAL_CLI_VERSION := v1.5.1
STATICCHECK_VERSION := v0.8.2

TEMPORAL := bin/temporal
STATICCHECK := bin/staticcheck

.PHONY: all demo test lint

all: test

# The Temporal CLI carries the dev server. Built once (a few minutes, cold),
# then reused.
$(TEMPORAL):
	GOBIN=$(CURDIR)/bin $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

$(STATICCHECK):
	GOBIN=$(CURDIR)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

demo: $(TEMPORAL)
	TEMPORAL_CLI=$(CURDIR)/$(TEMPORAL) $(GO) run ./cmd/demo

test: lint $(TEMPORAL)
	TEMPORAL_CLI=$(CURDIR)/$(TEMPORAL) $(GO) test -timeout 15m ./...

lint: $(STATICCHECK)
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
