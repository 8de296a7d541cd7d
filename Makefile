# durafetch: `make demo` runs the demo, `make test` runs every test.
# Each target installs what it needs on a fresh machine and skips what is there.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
WASM_BINDGEN_VERSION := 0.2.130
TARGET := wasm32-unknown-unknown
RAW_WASM := target/$(TARGET)/release/durafetch.wasm
SERVER_RAW_WASM := target/$(TARGET)/release/durafetch_server.wasm
VERSION := $(shell sed -n 's/^  "version": "\(.*\)",/\1/p' pkg-template/package.json)
TARBALL := build/durafetch-$(VERSION).tgz
export PATH := $(HOME)/.cargo/bin:$(PATH)
# wasm-opt from npm's binaryen: Debian's wasm-opt 108 emits modules that fail to load.
WASM_OPT_FLAGS := -Oz --converge --strip-debug --strip-producers --enable-bulk-memory --enable-sign-ext \
  --enable-mutable-globals --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue

.PHONY: all pkg pkg-server tarball test test-rust test-js test-size demo soak bench bench-server tools chromium services clean
all: pkg

## Tools ---------------------------------------------------------------------
tools: build/.rust-target build/.wasm-bindgen node_modules/.installed

build/.rust-target:
	@mkdir -p build
	rustup target list --installed | grep -qx $(TARGET) || rustup target add $(TARGET)
	@touch $@

build/.wasm-bindgen:
	@mkdir -p build
	@# --locked fails on this registry mirror; the version pin is exact anyway.
	wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)" || \
	  cargo install wasm-bindgen-cli --version =$(WASM_BINDGEN_VERSION)
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Debian's Chromium for browser tests (never a browser download of a test tool's own).
chromium:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update && apt-get install -y chromium chromium-driver; }

# Debian's Redis and PostgreSQL for the server half's tests; each test starts
# its own instance on a free loopback port (js-tests/server/services.js).
services:
	command -v redis-server >/dev/null || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server; }
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; }

## Package -------------------------------------------------------------------
# Two builds of one crate: the lean module (calls, outbox, breaker, resends,
# result(key)) that `durafetch` loads, and the full one (plus workflows) that
# `durafetch/workflows` loads. Each is a .wasm with no imports and its own
# minified JS bundle; a page downloads one of them, never both.
pkg: tools
	@mkdir -p build
	cargo build --release --target $(TARGET) --features trap-on-panic
	cp $(RAW_WASM) build/lean.wasm
	cargo build --release --target $(TARGET) --features trap-on-panic,workflows
	cp $(RAW_WASM) build/full.wasm
	rm -rf pkg && mkdir -p pkg/workflows
	node_modules/.bin/wasm-opt $(WASM_OPT_FLAGS) build/lean.wasm -o pkg/durafetch.wasm
	node_modules/.bin/wasm-opt $(WASM_OPT_FLAGS) build/full.wasm -o pkg/workflows/durafetch-workflows.wasm
	@# Each module's JS (codec, client, io/) ships as one minified module with its source map.
	node_modules/.bin/esbuild pkg-template/lean.js --bundle --format=esm --minify --target=es2022 \
	  --sourcemap --log-level=warning --outfile=pkg/durafetch.js
	node_modules/.bin/esbuild pkg-template/full.js --bundle --format=esm --minify --target=es2022 \
	  --sourcemap --log-level=warning --outfile=pkg/workflows/durafetch.js
	@# OpenTelemetry spans: a module of its own, imported only by a client given a `tracer`.
	node_modules/.bin/esbuild pkg-template/io/tracing.js --format=esm --minify --target=es2022 \
	  --log-level=warning --outfile=pkg/tracing.js
	cp pkg-template/browser.js pkg-template/node.js pkg-template/workerd.js pkg-template/background-sync.js pkg-template/index.d.ts \
	  pkg-template/package.json pkg-template/README.md pkg/
	cp pkg-template/workflows/*.js pkg-template/workflows/index.d.ts pkg/workflows/
	@# Smoke-test the optimised modules: a miscompiled one fails right here.
	node --input-type=module -e "import { createClient } from './pkg/node.js'; import { createClient as full } from './pkg/workflows/node.js'; await (await createClient()).close(); await (await full({ workflows: { w: async () => 1 } })).close(); const { statSync } = await import('node:fs'); console.log('pkg/ built:', statSync('pkg/durafetch.wasm').size, '+', statSync('pkg/workflows/durafetch-workflows.wasm').size, 'bytes of wasm (lean + full)')"
	$(MAKE) --no-print-directory pkg-server

# durafetch/server: its own crate and .wasm (pkg/server/), so the browser's
# download never contains server code. Optimised for speed, not size.
pkg-server: tools
	cargo build --release --target $(TARGET) -p durafetch-server
	rm -rf build/bindgen-server pkg/server && mkdir -p build/bindgen-server
	cp -r pkg-template/server pkg/server
	wasm-bindgen --target web --out-dir build/bindgen-server --out-name server --no-typescript \
	  --remove-name-section --remove-producers-section $(SERVER_RAW_WASM)
	node_modules/.bin/wasm-opt $(subst -Oz,-O3,$(WASM_OPT_FLAGS)) build/bindgen-server/server_bg.wasm -o pkg/server/server_bg.wasm
	cp build/bindgen-server/server.js pkg/server/server.js
	@# The package README: the opening, then README.md's user sections (client and server), never copied by hand.
	node server/package-readme.js README.md pkg-template/README.md pkg/README.md
	node --input-type=module -e "import { idempotent } from './pkg/server/node.js'; const h = idempotent(async () => new Response('ok', { status: 201 })); const r = await h(new Request('http://x/o', { method: 'POST', headers: { 'idempotency-key': 'k' } })); const again = await h(new Request('http://x/o', { method: 'POST', headers: { 'idempotency-key': 'k' } })); if (r.status !== 201 || again.headers.get('idempotent-replayed') !== 'true') throw new Error('server smoke test failed'); console.log('pkg/server/ built:', (await import('node:fs')).statSync('pkg/server/server_bg.wasm').size, 'bytes of wasm')"

tarball: pkg
	npm pack ./pkg --pack-destination build --silent >/dev/null
	@echo "packed $(TARBALL)"

## Tests ---------------------------------------------------------------------
test: test-rust test-size test-js

# Both builds of the core: the lean one (and the server crate), then the full
# one with the simulation's mutants (the simulation and the contract test).
test-rust:
	cargo test --workspace --quiet
	cargo test --quiet --features sim-mutants,workflows

# Bytes are exact, so the size budget is a test (timings are benchmarks).
test-size: pkg
	node bench/size-budget.js

# The JS tests import `durafetch` as a user would: installed from the tarball.
test-js: tarball chromium services
	npm install --no-save --no-audit --no-fund ./$(TARBALL)
	node --test js-tests/ demo/

## Benchmarks: one table, every figure with its ratio to peers measured in the same run.
bench: tarball chromium services
	cd bench && npm ci --no-audit --no-fund
	cd bench && npm install --no-save --no-audit --no-fund ../$(TARBALL)
	cargo run --release --example herd
	node bench/run.js

# Only durafetch/server's section (bench/server-results.md); make bench includes it.
bench-server: tarball services
	cd bench && npm ci --no-audit --no-fund
	cd bench && npm install --no-save --no-audit --no-fund ../$(TARBALL)
	node bench/server-report.js

## Demo ----------------------------------------------------------------------
# The page imports `durafetch` as an app would: from the installed tarball.
demo: tarball
	npm install --no-save --no-audit --no-fund ./$(TARBALL)
	node demo/main.js

# The chaos soak at 10,000 operations (make test runs it at 1,000).
soak: tarball chromium
	npm install --no-save --no-audit --no-fund ./$(TARBALL)
	SOAK_OPS=10000 node --test js-tests/soak/

clean:
	rm -rf pkg build target node_modules
