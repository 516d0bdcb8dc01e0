#!/usr/bin/env bash
# Fetch, where pip reaches PyPI, the wheels a GPU machine's image lacks for profiles/gpu/grid.sh, into .whl/
# (git-ignored): the workflow's own packages (snakemake and what it needs, jsonschema, pytorch-msssim,
# nibabel, medmnist) for CPython 3.12 on x86_64 Linux. Packages such an image already has (torch, numpy,
# pandas, scipy, scikit-learn, scikit-image, matplotlib, seaborn, pyyaml, ...) are left out: the machine's
# own builds of them stay in use. Check the folder's size against what the machine accepts (64 MiB).
#   bash profiles/gpu/wheels.sh [PYTHON_VERSION]   (default 3.12)
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=${1:-3.12}
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64)
TMP=$(mktemp -d)
WANTED=(snakemake==9.27.1 jsonschema==4.26.0)  # with what they need
ALONE=(pytorch-msssim==1.0.0 nibabel==5.4.2 medmnist==3.0.2)  # their needs (torch, numpy) are the image's
# Pure-Python packages published as source only (connection-pool) are built into wheels here first.
python3 -m pip wheel -q --no-deps -c constraints.txt -w "$TMP/built" connection-pool
python3 -m pip download -q --only-binary=:all: --python-version "$VERSION" --implementation cp \
  $(printf -- '--platform %s ' "${PLATFORMS[@]}") --find-links "$TMP/built" -c constraints.txt -d "$TMP" "${WANTED[@]}"
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$VERSION" --implementation cp -d "$TMP" "${ALONE[@]}"
HAS='^(torch|numpy|pandas|scipy|scikit_learn|scikit_image|matplotlib|seaborn|pyyaml|PyYAML|pillow|jinja2|Jinja2|MarkupSafe|markupsafe|packaging|psutil|requests|urllib3|idna|certifi|charset_normalizer|tabulate|wrapt|nvidia_.*|triton|sympy|mpmath|networkx|filelock|fsspec|typing_extensions|setuptools|six|python_dateutil|pytz|tzdata|attrs|platformdirs|pygments|contourpy|cycler|fonttools|kiwisolver|pyparsing|imageio|tifffile|lazy_loader|joblib|threadpoolctl|tqdm|click|pydantic.*|annotated_types)-'
mkdir -p .whl
for wheel in "$TMP"/*.whl; do
  name=$(basename "$wheel")
  if ! [[ "$name" =~ $HAS ]]; then cp -n "$wheel" .whl/; fi
done
rm -rf "$TMP"
du -sh .whl; ls .whl | wc -l
