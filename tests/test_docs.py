"""The prose that quotes results is generated from, or checked against, the tracked files (ald.paper.docs)."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ald.paper.docs import BLOCK, QUOTE, differences, hand_written_pages, quoted_value, rebuild_commands, with_blocks

ROOT = Path(__file__).resolve().parents[1]
# A result typed by hand: a mean ± std, a value in dB, or a decimal with two or more places that is not part of
# a version number. Everything of that kind must be a quote (<!-- q ... -->) or inside a generated block; a
# setting is written as `code`.
HAND_TYPED = re.compile(r"±|\d\s?dB\b|(?<![\d.\w])\d+\.\d{2,}(?![\d.])")
ALLOWED = {"3.11"}  # the Python version


def hand_written(text: str) -> str:
    """The prose a person typed: without generated blocks, quotes, and `code` (settings and names)."""
    return re.sub(r"`[^`\n]+`", "", QUOTE.sub("", BLOCK.sub("", text)))


def test_generated_docs_and_quotes_match_the_tracked_files():
    assert differences(ROOT) == [], "run `python -m ald.cli docs` (make check-tables does) and commit the result"


@pytest.mark.parametrize("page", hand_written_pages(ROOT), ids=lambda p: p.name)
def test_no_result_is_typed_by_hand(page):
    found = [m.group(0) for m in HAND_TYPED.finditer(hand_written(page.read_text())) if m.group(0) not in ALLOWED]
    assert found == [], f"{page.name}: write these as quotes of the file they come from (ald.paper.docs): {found}"


def test_a_quote_that_drifts_from_its_file_is_caught(tmp_path):
    (tmp_path / "results/tables").mkdir(parents=True)
    shutil.copy(ROOT / "results/tables/table1.csv", tmp_path / "results/tables/table1.csv")
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "profiles/tracked.yaml", tmp_path / "tracked.yaml")
    quote = "<!-- q results/tables/table1.csv dataset=rotated_mnist group=C4 model=ald metric=PSNR -->{}<!-- /q -->"
    right = quoted_value(tmp_path, "results/tables/table1.csv",
                         "dataset=rotated_mnist group=C4 model=ald metric=PSNR")
    page = "ALD reaches " + quote.format("31.00 ± 0.10") + " dB.\n"
    assert with_blocks(tmp_path, page) == "ALD reaches " + quote.format(right) + " dB.\n" != page
    assert re.fullmatch(r"\d+\.\d\d ± \d+\.\d\d", right)
    with pytest.raises(ValueError, match="matches 4 rows, not 1"):
        quoted_value(tmp_path, "results/tables/table1.csv", "dataset=rotated_mnist group=C4 model=ald")
    with pytest.raises(ValueError, match="no column colour"):
        quoted_value(tmp_path, "results/tables/table1.csv", "colour=red")


def test_the_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail to docs/"


def test_every_relative_link_in_the_docs_resolves():
    broken = []
    for page in hand_written_pages(ROOT) + [ROOT / "docs/results.md"]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not re.match(r"[a-z]+://", target) and not (page.parent / target).exists():
                broken.append(f"{page.name} -> {target}")
    assert broken == []


def test_nothing_points_outside_the_repository_or_at_readme_headings():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    code = [f for f in files if f.endswith((".py", ".smk", ".yaml", ".rst", "Snakefile", "Makefile", ".md"))
            and f != "tests/test_docs.py"]
    outside = [f for f in code if "DESIGN.md" in (ROOT / f).read_text()]
    headings = [f for f in code if not f.endswith(".md") and re.search(r"README,? [\"']", (ROOT / f).read_text())]
    assert outside == [] and headings == [], (outside, headings)


def test_every_tracked_set_has_a_rebuild_command():
    commands = rebuild_commands(ROOT)
    assert commands and all("--profile profiles/" in c for c in commands)
    assert any(c.startswith("table1 ") and "--profile profiles/paper" in c for c in commands)
