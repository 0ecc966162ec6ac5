# tend: build, run the quickstart, test, lint, install.
#
#   make run    install what the quickstart needs, build tend and run it on
#               examples/quickstart (Redis on 127.0.0.1:6379, mail to mailpit)
#   make test   install what the tests need, then lint and run every test with -race

GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
BIN     := bin/tend
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
GOBIN   := $(shell $(GO) env GOPATH)/bin
GOLANGCI_LINT_VERSION := v2.15.0

export PATH := $(GOBIN):$(PATH)

.PHONY: build run test test-deps lint bench install clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/tend

run: build
	scripts/install-deps run
	scripts/run-quickstart

test-deps:
	scripts/install-deps test

test: test-deps lint
	$(GO) test -race -count=1 -timeout 20m ./...

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@command -v golangci-lint >/dev/null || \
		$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	golangci-lint run ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tend

clean:
	rm -rf bin
