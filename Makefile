# Two entry points, each setting itself up on a fresh machine:
#   make demo   - the offline demo: generated data, the whole DAG, every table (under 5 minutes, 2 cores)
#   make test   - the test suite (unit tests, workflow dry runs, the demo and a real-MNIST run if present)
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: egl setup demo test benchmark lint slurm-test check-tables docs report clean-demo

setup: $(VENV)/.installed

# The airplane renders (pyrender, PYOPENGL_PLATFORM=egl) need Debian's Mesa EGL libraries: installed when
# missing and we are root, else named. Everything else works without them.
EGL_PACKAGES := libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri
egl:
	@if ldconfig -p | grep -q 'libEGL_mesa.so.0'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q $(EGL_PACKAGES) || { apt-get update -q && apt-get install -y -q $(EGL_PACKAGES); }; \
	else echo "warning: offscreen rendering (the airplanes dataset) needs $(EGL_PACKAGES): sudo apt-get install $(EGL_PACKAGES)"; fi

# One pip call for torch, the package and its pins: `torch==2.13.0` takes the CPU build (never
# torchvision, which drags in CUDA); constraints.txt pins every other package exactly; medmnist goes in
# without its deps. --no-compile: byte-compiling every installed file took about half the set-up; step 5
# compiles only the modules the jobs import (src/ald/bytecode.py says why that matters).
PIP := $(BIN)/pip install --quiet --no-compile --progress-bar off
$(VENV)/.installed: pyproject.toml constraints.txt
	@echo "[1/5] Checking the offscreen-rendering libraries (EGL), needed only for the airplane renders..."
	@$(MAKE) --no-print-directory egl
	@echo "[2/5] Creating the virtual environment $(VENV)..."
	@$(PYTHON) -m venv $(VENV)
	@echo "[3/5] Installing torch 2.13.0 (CPU), snakemake and the ald package's pinned dependencies into $(VENV) (about a minute)..."
	@$(PIP) -c constraints.txt "torch==2.13.0" -e ".[dev]"
	@echo "[4/5] Installing medmnist 3.0.2 without its dependencies (only its INFO table; its deps pull CUDA torch)..."
	@$(PIP) --no-deps "medmnist==3.0.2"
	@echo "[5/5] Writing the bytecode cache of the modules the workflow's jobs import (ald bytecode)..."
	@$(BIN)/python -m ald.cli bytecode
	@touch $@
	@echo "Set up. Activate it with: source $(VENV)/bin/activate"

demo: setup
	$(RUN) snakemake --profile profiles/demo all
	@echo; cat demo/results/summary.md
	@echo; echo "Made: demo/results/ (tables/, figures/, claims.md, summary.md). The HTML report: make report"

test: setup
	$(RUN) python -m pytest -ra $(PYTEST_ARGS)

benchmark: setup
	$(RUN) python benchmarks/throughput.py

slurm-test: setup
	$(RUN) bash tests/slurm/run_slurm_test.sh

# Rebuild every tracked result set's tables, claims and summary (profiles/tracked.yaml) from the tracked metrics,
# probe and checks files (no training), then the generated docs, and fail if any byte differs from the committed one.
check-tables: setup
	$(RUN) python -m ald.cli tracked | while read -r args; do $(RUN) snakemake $$args --cores 1 || exit 1; done
	$(RUN) python -m ald.cli docs
	git diff --exit-code --stat -- results/ README.md docs/

docs: setup
	$(RUN) python -m ald.cli docs

# The HTML report of a finished run: `make report` for the demo, `make report PROFILE=profiles/reduced` for a preset.
PROFILE := profiles/demo
report: setup
	$(RUN) snakemake --profile $(PROFILE) --report $(notdir $(PROFILE))-report.html
	@echo "wrote $(notdir $(PROFILE))-report.html"

lint: setup
	$(RUN) snakemake --lint && $(RUN) snakefmt --check Snakefile workflow/

clean-demo:
	rm -rf demo/
