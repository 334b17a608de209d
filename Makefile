# Strata — two entry points: `make demo` and `make test`. Both install the native libraries
# from Debian when they are missing (run as root on a fresh machine).

SWIFT ?= swift
NATIVE_PACKAGES := libzstd-dev liblz4-dev libre2-dev zlib1g-dev pkg-config libsqlite3-dev
BIN := .build/release/strata
DEMO := demo-out

.PHONY: all deps build test demo fuzz clean

all: build

deps:
	@missing=""; for p in $(NATIVE_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product strata

test: deps
	@SWIFT=$(SWIFT) bash scripts/test.sh

# Coverage-guided fuzzing of every decoder and parser (docs/RELIABILITY.md, "Fuzzing"):
# FUZZ_SECONDS per target (default 300), FUZZ_TARGETS to choose (`strata-fuzz list`).
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?=
fuzz: deps
	$(SWIFT) build -c release --product strata-fuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer -Xswiftc -DSTRATA_LIBFUZZER -Xswiftc -use-ld=lld
	@bash scripts/fuzz.sh .build-fuzz/release/strata-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

demo: build
	@bash scripts/demo.sh $(BIN) $(DEMO)

clean:
	rm -rf .build .build-fuzz .fuzz $(DEMO)
