# The two commands of the README:
#   make demo   installs what is needed, builds, and runs halo's main job on its defaults
#   make test   installs what the tests need, builds, and runs the test suite
BUILD ?= build
JOBS ?= $(shell nproc)
# The Python package (python/) built in the same tree, with .venv's nanobind; ccache shared
# with `pip install .` (pyproject.toml).
PYTHON_FLAGS ?= -DHALO_BUILD_PYTHON=ON -DPython_EXECUTABLE=$(CURDIR)/.venv/bin/python -DHALO_CCACHE=ON

.PHONY: demo test build setup-build setup-data bench clean

setup-build:
	scripts/setup.sh build

setup-data:
	scripts/setup.sh data

build: setup-build
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(PYTHON_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow -E "Slow\."

demo: build setup-data
	$(BUILD)/bin/halo run --out halo-run --force

bench: build
	@for b in $(BUILD)/bench/*/bench_*; do echo "== $$b"; $$b; done

clean:
	rm -rf $(BUILD)
