# sacrum — see README.md. Two commands matter: `make demo` and `make test`.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export CGO_ENABLED := 1
# The official ONNX Runtime library, fetched by scripts/setup.sh.
export SACRUM_ORT_LIB ?= $(CURDIR)/.cache/onnxruntime-1.30.0/libonnxruntime.so.1
# Debian's DCMTK and Orthanc stall ~45 ms per image without it.
export TCP_NODELAY := 1
GO ?= go
FUZZTIME ?= 10s

.PHONY: all setup setup-minimal build demo test unit fuzz bench lint golden clean

all: build

setup:
	scripts/setup.sh

setup-minimal:
	scripts/setup.sh --minimal

build:
	$(GO) build -o bin/sacrum ./cmd/sacrum

demo: setup-minimal build
	bin/sacrum demo

test: setup build unit fuzz

unit:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

# Each fuzz target runs briefly in CI; longer runs: make fuzz FUZZTIME=5m.
fuzz:
	@set -e; for spec in $$(scripts/fuzz-targets.sh); do \
		pkg=$${spec%%:*}; fn=$${spec##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) $$pkg >/dev/null; \
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
