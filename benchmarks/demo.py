"""The demo from nothing, as a newcomer meets it: a fresh clone of this checkout's HEAD, `make setup`, then
`make demo`, each timed on the wall clock.

    python3 benchmarks/demo.py [--out results/benchmarks/demo_cpu_epyc] [--keep]

Prints the machine (CPU, cores, memory, and the CPU time other processes took meanwhile), the commit, the set-up and workflow times and
their sum; then, from Snakemake's log, how many jobs each rule ran and the wall seconds they took in all
(jobs run two at a time on two cores, so these sum to about twice the workflow's time), and Snakemake's own
start-up (a dry run of the finished demo, which has nothing left to do). With --out it also writes the text
(.txt) and the figures (.json) that the README and docs/speed.md quote. The clone's pip installs from this
machine's package index and cache, as `make setup` of any clone here would. Needs only python3, git and make.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAMP = re.compile(r"\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]")


def timed(command: list[str], cwd: Path, log: Path) -> float:
    start = time.monotonic()
    with log.open("w") as out:
        subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=True)
    return time.monotonic() - start


def job_seconds(snakemake_log: Path) -> dict[str, list[float]]:
    """Wall seconds of each job, by rule, from the timestamps Snakemake writes when a job starts and ends."""
    now, rule, started, seconds = None, None, {}, collections.defaultdict(list)
    for line in snakemake_log.read_text().splitlines():
        if stamp := STAMP.match(line):
            now = datetime.datetime.strptime(stamp.group(1), "%a %b %d %H:%M:%S %Y")
        elif found := re.match(r"(?:local)?rule (\w+):", line):
            rule = found.group(1)
        elif (found := re.match(r"\s+jobid: (\d+)", line)) and rule:
            started[found.group(1)], rule = (now, rule), None
        elif found := re.match(r"Finished jobid: (\d+) \(Rule: \w+\)", line):
            began, name = started[found.group(1)]
            seconds[name].append((now - began).total_seconds())
    return seconds


def busy_cpu_seconds() -> float:
    """CPU seconds every process on this machine has used since boot (user, nice, system, irq, softirq, steal)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[i] for i in (0, 1, 2, 5, 6, 7)) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": names[0] if names else platform.processor(), "cores": os.cpu_count(), "memory_gib": round(memory)}


def report(figures: dict) -> str:
    lines = [f"machine: {figures['cpu']}, {figures['cores']} cores, {figures['memory_gib']} GiB; other processes "
             f"used {figures['other_cpu_s']:.0f} CPU-s meanwhile (0 on an idle machine)",
             f"commit {figures['commit']}, a fresh clone; {figures['jobs']} jobs",
             f"make setup  {figures['setup_s']:6.0f} s",
             f"make demo   {figures['workflow_s']:6.0f} s",
             f"total       {figures['total_s']:6.0f} s  ({figures['total_s'] / 60:.1f} min)",
             f"Snakemake start-up (dry run, nothing to do): {figures['snakemake_start_s']:.1f} s", "",
             "rule            jobs  job-seconds  mean s"]
    for rule, (count, total) in figures["rules"].items():
        lines.append(f"{rule:14s} {count:5d} {total:12.0f} {total / count:7.1f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write OUT.txt (the report) and OUT.json (its figures)")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    figures = machine()
    figures["commit"] = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True).strip()
    busy, ours = busy_cpu_seconds(), children_cpu_seconds()
    work = Path(tempfile.mkdtemp(prefix="ald-demo-"))
    clone = work / REPO.name
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    figures["setup_s"] = timed(["make", "setup"], clone, work / "setup.log")
    figures["workflow_s"] = timed(["make", "demo"], clone, work / "demo.log")
    figures["total_s"] = figures["setup_s"] + figures["workflow_s"]
    figures["other_cpu_s"] = max(0.0, (busy_cpu_seconds() - busy) - (children_cpu_seconds() - ours))
    seconds = job_seconds(max((clone / ".snakemake/log").glob("*.snakemake.log")))
    dry = [str(clone / ".venv/bin/snakemake"), "--profile", "profiles/demo", "-n", "all"]
    figures["snakemake_start_s"] = timed(dry, clone, work / "dry.log")
    figures["rules"] = {rule: [len(v), sum(v)] for rule, v in sorted(seconds.items(), key=lambda kv: -sum(kv[1]))}
    figures["jobs"] = sum(len(v) for v in seconds.values())
    text = report(figures)
    print(text, end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".txt").write_text(text)
        args.out.with_suffix(".json").write_text(json.dumps(figures, indent=1) + "\n")
    if args.keep:
        print(f"kept: {clone}")
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
