# Two entry points, each setting itself up on a fresh machine:
#   make demo   - the offline demo: generated data, the whole DAG, every table (under 5 minutes, 2 cores)
#   make test   - the test suite (unit tests, workflow dry runs, the demo and a real-MNIST run if present)
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: egl setup demo test benchmark lint slurm-test check-tables clean-demo

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
# without its deps. --no-compile: byte-compiling every installed file took about half the set-up; Python
# compiles the modules a job imports on first use instead.
PIP := $(BIN)/pip install --quiet --no-compile --progress-bar off
$(VENV)/.installed: pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory egl
	$(PYTHON) -m venv $(VENV)
	@echo "Installing torch 2.13.0 (CPU), snakemake and the ald package's pinned dependencies into $(VENV) (about a minute)..."
	@$(PIP) -c constraints.txt "torch==2.13.0" -e ".[dev]"
	@echo "Installing medmnist 3.0.2 without its dependencies (only its INFO table; its deps pull CUDA torch)..."
	@$(PIP) --no-deps "medmnist==3.0.2"
	touch $@

demo: setup
	$(RUN) snakemake --profile profiles/demo all
	@echo; cat demo/results/tables/table1.md

test: setup
	$(RUN) python -m pytest -ra $(PYTEST_ARGS)

benchmark: setup
	$(RUN) python benchmarks/throughput.py

slurm-test: setup
	$(RUN) bash tests/slurm/run_slurm_test.sh

# Rebuild every tracked table and the claims from the tracked metrics, probe and checks files (no
# training) and fail if any differs from the committed one: each number in results/ comes from the files beside it.
PAPER := profiles/paper
TABLES_ONLY := --allowed-rules make_table --forcerun make_table --cores 1
ALL_TABLES := table1 table2 table3 parameters claims
REBUILD := --allowed-rules make_table make_claims --forcerun make_table make_claims --cores 1
check-tables: setup
	$(RUN) snakemake $(ALL_TABLES) --profile $(PAPER) $(REBUILD)
	$(RUN) snakemake table1 --profile $(PAPER) --configfile $(PAPER)/c4_rmsnorm.yaml $(TABLES_ONLY)
	$(RUN) snakemake table1 --profile $(PAPER) --configfile $(PAPER)/adrenal28.yaml $(TABLES_ONLY)
	$(RUN) snakemake $(ALL_TABLES) --profile profiles/reduced $(REBUILD)
	$(RUN) snakemake $(ALL_TABLES) --profile profiles/reduced \
	    --configfile profiles/reduced/reduced.yaml profiles/reduced/airplanes.yaml $(REBUILD)
	git diff --exit-code --stat -- results/

lint: setup
	$(RUN) snakemake --lint && $(RUN) snakefmt --check Snakefile workflow/

clean-demo:
	rm -rf demo/
