#!/usr/bin/env bash
# The paper grid on one GPU, as one prepared script: the throughput benchmark (with its projection of the
# grid's time), then the workflow, bounded in time, then the results packed for copying back.
#
#   bash profiles/gpu/grid.sh [PROFILE] [SECONDS]
#     PROFILE  a Snakemake profile (default profiles/gpu; profiles/demo tries the script on a CPU in minutes)
#     SECONDS  wall-time bound of the workflow (default 420); an unfinished grid resumes from side checkpoints
#   OUT=<dir>  where the packed results and logs go (default ./grid-out)
#
# Packages the machine lacks travel as wheels in .whl/ (profiles/gpu/wheels.sh fetches them where pip works);
# they are installed into a scratch folder, never over the machine's own torch.
set -uo pipefail
cd "$(dirname "$0")/../.."
PROFILE=${1:-profiles/gpu}
BOUND=${2:-420}
OUT=${OUT:-grid-out}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/ald-site .whl/*.whl \
    || { echo "grid.sh: installing the carried wheels failed" >&2; exit 1; }
  export PYTHONPATH=/tmp/ald-site${PYTHONPATH:+:$PYTHONPATH}
  export PATH=/tmp/ald-site/bin:$PATH
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
PY=${PYTHON:-python3}
command -v snakemake > /dev/null || { echo "grid.sh: snakemake not found (carry its wheels: profiles/gpu/wheels.sh)" >&2; exit 1; }

echo "== $(date -u +%FT%TZ) benchmark" | tee "$OUT/grid.log"
BENCH_ARGS=${BENCH_ARGS:-}
$PY benchmarks/throughput.py --grid-args "--profile $PROFILE" $BENCH_ARGS 2>&1 | tee "$OUT/benchmark.txt"

echo "== $(date -u +%FT%TZ) workflow: snakemake --profile $PROFILE all (bound ${BOUND} s)" | tee -a "$OUT/grid.log"
start=$(date +%s)
timeout --signal=INT --kill-after=30 "$BOUND" snakemake --profile "$PROFILE" all > "$OUT/snakemake.log" 2>&1
status=$?
echo "== $(date -u +%FT%TZ) workflow exit $status after $(( $(date +%s) - start )) s" | tee -a "$OUT/grid.log"
[ "$status" -eq 0 ] || tail -n 40 "$OUT/snakemake.log"

# Everything the tables and figures are made from, without checkpoints (figures are drawn here, before packing);
# PACK_RESUME=1 also packs the side checkpoints, so that another machine can continue an unfinished grid.
RESULTS=$($PY - "$PROFILE" <<'PY'
import sys, yaml
from pathlib import Path
results = yaml.safe_load(open("config.yaml"))["results"]
overlays = yaml.safe_load(open(Path(sys.argv[1]) / "config.yaml")).get("configfile") or []
for overlay in [overlays] if isinstance(overlays, str) else overlays:
    results = (yaml.safe_load(open(overlay)) or {}).get("results", results)
print(results)
PY
)
tar -czf "$OUT/results.tar.gz" --exclude='*.pt' --exclude='resume' "$RESULTS"
if [ "${PACK_RESUME:-0}" = 1 ] && [ -d "$RESULTS/resume" ]; then tar -czf "$OUT/resume.tar.gz" "$RESULTS/resume"; fi
ls -la "$OUT" | tee -a "$OUT/grid.log"
exit "$status"
