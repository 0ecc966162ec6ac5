# tend: build, run the quickstart, test, lint, install.
#
#   make run    install what the quickstart needs, build tend and run it on
#               examples/quickstart (Redis on 127.0.0.1:6379, mail to mailpit)
#   make test   install what the tests need, then lint and run every test with -race
#   make bench  the Go benchmarks, then bench/cmd/harness: tend against Monit and
#               supervisord at N = 10 to 1000 services (as root; about an hour; set
#               BENCH_FLAGS=-quick for a smoke run); writes docs/benchmarks-compare.md
#   make e2e    the whole-stack test alone: PostgreSQL, Redis, Sidekiq, Puma and Caddy
#               under tend with the drop-ins of conf.d (make test runs it too)
#   make install          install the binary, the systemd unit and /etc/tend (as root;
#                         PREFIX=/usr/local, DESTDIR for a staging directory)
#   make deb              build the Debian package bin/tend_VERSION_ARCH.deb with nfpm

GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
BIN     := bin/tend
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
GOBIN   := $(shell $(GO) env GOPATH)/bin
GOLANGCI_LINT_VERSION := v2.15.0

# Install layout. The unit and the configuration directory are found by systemd and by
# tend's default --config whatever PREFIX is: systemd also reads units from
# /usr/local/lib/systemd/system.
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DATADIR    ?= $(PREFIX)/share

# The Debian package. nfpm is pinned here and run with go run, so it stays out of
# go.mod. A tag vX.Y.Z gives the version X.Y.Z, N commits after it X.Y.Z+N.gHASH, and
# without a tag 0.0.0~git.HASH; a modified work tree adds .dirty. Debian versions must
# start with a digit.
NFPM_VERSION   := v2.48.0
DEB_VERSION    := $(shell v=$$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null) || \
	v=0.0.0~git.$$(git describe --always --dirty 2>/dev/null || echo unknown); \
	echo "$$v" | sed -E 's/^v//; s/-([0-9]+)-g([0-9a-f]+)/+\1.g\2/; s/-dirty$$/.dirty/')
DEB_ARCH       := $(shell $(GO) env GOARCH)
DEB_MAINTAINER ?= tend maintainers <root@localhost>
DEB            := bin/tend_$(DEB_VERSION)_$(DEB_ARCH).deb

export PATH := $(GOBIN):$(PATH)

.PHONY: build run test e2e test-deps lint bench install deb clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/tend

run: build
	scripts/install-deps run
	scripts/run-quickstart

test-deps:
	scripts/install-deps test

test: test-deps lint
	$(GO) test -race -count=1 -timeout 20m ./...

e2e: test-deps
	$(GO) test -race -count=1 -timeout 20m ./e2e/

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@command -v golangci-lint >/dev/null || \
		$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	golangci-lint run ./...

BENCH_FLAGS ?=
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./bench/cmd/harness $(BENCH_FLAGS)

# The unit's paths follow PREFIX and SYSCONFDIR. An existing tend.toml is kept. The
# tend group, whose members may use the control socket, is made only when installing
# into the running system as root.
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tend
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/tend/conf.d
	sed -e 's|^ExecStart=/usr/bin/tend |ExecStart=$(PREFIX)/bin/tend |' \
		-e 's|/etc/tend/|$(SYSCONFDIR)/tend/|g' packaging/tend.service > $(DESTDIR)$(UNITDIR)/tend.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tend.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/tend/tend.toml ]; then \
		echo "install: keeping the existing $(DESTDIR)$(SYSCONFDIR)/tend/tend.toml"; \
	else \
		install -m 0644 packaging/tend.toml $(DESTDIR)$(SYSCONFDIR)/tend/tend.toml; \
	fi
	install -D -m 0644 packaging/prometheus/tend.rules.yml $(DESTDIR)$(DATADIR)/tend/prometheus/tend.rules.yml
	install -D -m 0644 packaging/prometheus/tend.dashboard.json $(DESTDIR)$(DATADIR)/tend/grafana/tend.dashboard.json
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && ! getent group tend >/dev/null; then \
		echo "install: adding the system group tend"; groupadd --system tend; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
		echo "install: done; run: systemctl daemon-reload && systemctl enable --now tend"; \
	fi

deb: build
	DEB_VERSION='$(DEB_VERSION)' DEB_ARCH='$(DEB_ARCH)' DEB_MAINTAINER='$(DEB_MAINTAINER)' \
		$(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION) \
		pkg --config packaging/nfpm.yaml --packager deb --target $(DEB)

clean:
	rm -rf bin
