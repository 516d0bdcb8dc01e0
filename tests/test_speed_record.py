"""The README's speed figures are the tracked benchmark output's (results/benchmarks/throughput_cpu.txt)."""

import re

from conftest import REPO

RECORD = REPO / "results/benchmarks/throughput_cpu.txt"
CASE_COLUMNS = {"rmnist": (1, 2), "adrenal64": (3, 4)}  # README table columns: pairs/s, vs authors


def benchmark_rows() -> dict[str, dict[str, tuple[float, str]]]:
    """case -> loop -> (pairs/s, speed-up) as the benchmark printed them."""
    rows, case = {}, None
    for line in RECORD.read_text().splitlines():
        header = re.match(r"== (\w+): ALD", line)
        if header:
            case = header.group(1)
            rows[case] = {}
        match = re.match(r"(.+?)\s{2,}([\d.]+)\s+([\d.]+x)\s+[\d.]+%", line)
        if case and match:
            rows[case][match.group(1).strip()] = (float(match.group(2)), match.group(3))
    return rows


def readme_speed_table() -> list[list[str]]:
    section = REPO.joinpath("README.md").read_text().split("## Speed", 1)[1].split("\n## ", 1)[0]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| loop")]


def test_the_readme_speed_table_is_the_tracked_benchmark_output():
    measured = benchmark_rows()
    table = readme_speed_table()
    assert set(measured) == set(CASE_COLUMNS) and len(table) >= 6
    for cells in table:
        loop = cells[0].strip("`* ")
        for case, (rate_column, speedup_column) in CASE_COLUMNS.items():
            if cells[rate_column] in ("", "—", "not timed"):
                continue
            rate, speedup = measured[case][loop]
            shown = float(cells[rate_column].replace(",", ""))
            assert shown == round(rate, 0 if rate >= 100 else 1), (loop, case, shown, rate)
            assert cells[speedup_column] == speedup, (loop, case)
