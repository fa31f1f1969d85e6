# The two commands of the README:
#   make demo       installs what is needed, builds, and runs halo's main job on its defaults
#   make test       installs what the tests need (the default model and texts included), builds,
#                   and runs the test suite; HALO_REQUIRE_DATA=1 turns a real-model test that
#                   would skip for want of data/ into a failure
#   make test-slow  the slow tests: label `slow` and test names with `Slow.` (suites *Slow)
BUILD ?= build
JOBS ?= $(shell nproc)
# The Python package (python/) built in the same tree, with .venv's nanobind; ccache shared
# with `pip install .` (pyproject.toml).
PYTHON_FLAGS ?= -DHALO_BUILD_PYTHON=ON -DPython_EXECUTABLE=$(CURDIR)/.venv/bin/python -DHALO_CCACHE=ON

.PHONY: demo test test-slow build setup-build setup-data bench clean fuzz-smoke

setup-build:
	scripts/setup.sh build

setup-data:
	scripts/setup.sh data

build: setup-build
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(PYTHON_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build setup-data
	cd $(BUILD) && HALO_REQUIRE_DATA=1 ctest --output-on-failure -j $(JOBS) -LE slow -E "Slow\."

test-slow: build setup-data
	cd $(BUILD) && HALO_REQUIRE_DATA=1 ctest --output-on-failure -j $(JOBS) -L slow
	cd $(BUILD) && HALO_REQUIRE_DATA=1 HALO_SLOW_TESTS=1 ctest --output-on-failure -j $(JOBS) -LE slow -R "Slow\."

demo: build setup-data
	$(BUILD)/bin/halo run --out halo-run --force

# Builds the libFuzzer targets with clang and runs each for 5 s (skipped without clang).
fuzz-smoke:
	scripts/fuzz_smoke.sh 5

bench: build
	@for b in $(BUILD)/bench/*/bench_*; do echo "== $$b"; $$b; done

clean:
	rm -rf $(BUILD)
