# Convenience targets; .ci/run is what CI runs.
.PHONY: build test bench fuzz

build:
	go build -o bin/ ./cmd/modelgate ./cmd/modelgate-full ./cmd/modelgate-mlflow

test:
	.ci/run

# Throughput (MB/s, files/s), CPU seconds and peak RSS on a generated
# corpus: a 5 GiB PyTorch zip checkpoint, 1 GiB numeric pickles, object-heavy
# record pickles of 100 MiB and 1 GiB (written by CPython's pickle) and 2000
# small real models.
bench: build
	go test -run '^$$' -bench . -benchtime 5x ./core/pickle/
	go run -tags benchmark ./test/benchmark -bin bin/modelgate

# Short fuzzing session over every fuzz target (FUZZTIME per target).
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$(go list ./...); do \
	  for t in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
