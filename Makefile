# sacrum — see README.md. Two commands matter: `make demo` and `make test`.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export CGO_ENABLED := 1
# The official ONNX Runtime library, fetched by scripts/setup.sh.
export SACRUM_ORT_LIB ?= $(CURDIR)/.cache/onnxruntime-1.30.0/libonnxruntime.so.1
# Debian's DCMTK and Orthanc stall ~45 ms per image without it.
export TCP_NODELAY := 1
GO ?= go
# Empty: each target runs its execution budget (scripts/fuzz-budgets.txt).
FUZZTIME ?=

.PHONY: all setup setup-minimal build demo test unit race fuzz bench lint golden clean

all: build

setup:
	scripts/setup.sh

setup-minimal:
	scripts/setup.sh --minimal

build:
	$(GO) build -o bin/sacrum ./cmd/sacrum

demo: setup-minimal build
	bin/sacrum demo

test: setup build unit race fuzz

unit:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

# The race detector on the concurrent parts: the DICOM server, the store's writer and queue, the node.
race:
	$(GO) test -race -count=1 -timeout 15m ./dimse/... ./store/... ./pipeline/node

# Each fuzz target runs its execution budget in CI; longer runs: make fuzz FUZZTIME=5m.
# A failing target's output and the input it wrote under testdata/fuzz/ are printed (CI keeps no files).
fuzz:
	@set -eo pipefail; targets=$$(scripts/fuzz-targets.sh); log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	for spec in $$targets; do \
		IFS=: read -r pkg fn n <<< "$$spec"; t=$${FUZZTIME:-$${n}x}; \
		echo "fuzz $$pkg $$fn ($$t)"; \
		if ! $(GO) test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$$t -fuzzminimizetime=10s $$pkg > $$log 2>&1; then \
			tail -n 60 $$log; \
			for f in $$(git ls-files --others --exclude-standard $$pkg/testdata/fuzz); do echo "== $$f"; cat "$$f"; done; \
			exit 1; \
		fi; \
	done

bench: setup build
	scripts/bench.sh

lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Regenerates golden values with R and ONNX models with PyTorch (not needed for tests).
golden:
	scripts/setup.sh --golden
	Rscript pipeline/learn/testdata/golden.R

clean:
	rm -rf bin
