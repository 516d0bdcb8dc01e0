"""Command-line entry points; each Snakemake rule calls one of these (``python -m ald.cli <command> ...``).

A thin dispatcher: every command parses its arguments and calls one library function.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .analyses import ANALYSES
from .paper import FIGURES, TABLES


def cmd_fetch(args) -> None:
    import time

    from .acquire import DEADLINE_SECONDS, AcquisitionError, fetch
    from .sources import check_terms, get_source

    check_terms(args.source, json.loads(args.params))  # before anything is read or downloaded
    files = get_source(args.source).files.values()
    mirror = Path(args.mirror) / args.source if args.mirror else None
    bound = max((spec.deadline_seconds for spec in files), default=DEADLINE_SECONDS)
    failures, stop_at = [], time.monotonic() + bound  # one time bound for all of the source's files
    for spec in files:
        try:
            path = fetch(spec, Path(args.dest) / spec.name, mirror=mirror, retries=args.retries,
                         allow_network=not args.no_network, deadline_seconds=max(0.0, stop_at - time.monotonic()))
            print(f"{path}: md5 {spec.md5} verified", flush=True)
        except AcquisitionError as exc:
            failures.append(str(exc))
    if failures:  # report every missing or bad file at once, not just the first
        raise AcquisitionError(f"{len(failures)} file(s) of source {args.source!r} failed:\n" + "\n".join(failures))


def cmd_prepare(args) -> None:
    from .sources import prepare, save_source

    arrays = prepare(args.source, json.loads(args.params), args.raw)
    save_source(arrays, Path(args.out))
    print(json.dumps({k: list(v.shape) for k, v in arrays.items()}), flush=True)


def cmd_train(args) -> None:
    from .training import TrainSpec, train

    train(TrainSpec(**json.loads(args.spec)), Path(args.out), Path(args.resume), log=lambda line: print(line, flush=True))


def cmd_analyse(args) -> None:
    analysis = ANALYSES.lookup(args.analysis)
    shown = analysis.run(Path(args.run_dir), Path(args.out), json.loads(args.identity), json.loads(args.settings))
    print(json.dumps(shown), flush=True)


def cmd_table(args) -> None:
    from .paper import tables

    table = tables.TABLES.lookup(args.table)
    inputs = json.loads(args.rows) if args.rows else [Path(p) for p in args.inputs]
    shown = table.make(inputs, json.loads(args.notes), [Path(p) for p in args.outputs], json.loads(args.header),
                       json.loads(args.left_out))
    print(shown.to_string(), flush=True)


def cmd_figure(args) -> None:
    from .paper.figures import FIGURE_REGISTRY
    from .paper.figures.drawing import placeholder_figure
    from .plan import input_files

    figure = FIGURE_REGISTRY.lookup(args.figure)
    inputs = json.loads(args.inputs)
    left_out = json.loads(args.left_out)
    if not inputs and left_out:  # every panel left out on purpose (not_run): the figure says so instead
        placeholder_figure(args.figure, left_out, [Path(p) for p in args.outputs], args.note)
        print(f"wrote {' and '.join(args.outputs)} (nothing to draw: every panel is left out)", flush=True)
        return
    if not inputs:
        raise ValueError(f"{args.figure} has nothing to show. {args.why or 'Its datasets are not in this run.'}")
    missing = [f for f in input_files(inputs) if not Path(f).exists()]
    if missing:
        raise FileNotFoundError(f"{args.figure} needs {len(missing)} missing input(s): {', '.join(missing)}. "
                                f"Build them first, e.g. `snakemake --cores 2 {missing[0]}`, or run the figure's target.")
    figure.draw(inputs, args.test_seed, [Path(p) for p in args.outputs], args.note)
    if args.record:  # what it was drawn from (ald.plan.Plan.figure_differences)
        Path(args.record).write_text(json.dumps(inputs, indent=1, sort_keys=True) + "\n")
    print(f"wrote {' and '.join(args.outputs)}", flush=True)


def cmd_claims(args) -> None:
    from .paper.claims import write_claims

    tables = {name: Path(path) for name, path in json.loads(args.tables).items()}
    frame = write_claims(tables, json.loads(args.sweep), json.loads(args.checks), json.loads(args.notes),
                         [Path(p) for p in args.outputs], header=json.loads(args.header))
    print(frame[["claim", "verdict"]].to_string(index=False), flush=True)


def cmd_summary(args) -> None:
    from .paper.summary import write_summary

    print(write_summary(Path(args.table1), Path(args.claims) if args.claims else None, json.loads(args.header),
                        Path(args.output), [Path(p) for p in args.others]), end="", flush=True)


def numbers(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def cmd_transform(args) -> None:
    from .training import load_run
    from .transform import transform_file

    device = args.device if args.device != "auto" else ("cuda" if torch_cuda() else "cpu")
    run = load_run(Path(args.run), device)
    element = None if args.swap_with else {"angle": args.angle, "axis": args.axis, "euler": args.euler,
                                            "cube_index": args.cube_index}
    out = transform_file(run, Path(args.input), Path(args.out), element,
                         Path(args.swap_with) if args.swap_with else None)
    print(f"wrote {out} ({'swap' if args.swap_with else run.group.name} with {args.run})", flush=True)


def torch_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def cmd_docs(args) -> None:
    from .paper.docs import differences, write_docs

    changed = differences() if args.check else write_docs()
    for path in changed:
        print(f"{'differs from the tracked files' if args.check else 'wrote'}: {path}", flush=True)
    if args.check and changed:
        raise SystemExit("the generated docs are out of date: run `ald docs` (make check-tables does)")


def cmd_bytecode(args) -> None:
    from .bytecode import write_job_bytecode

    written, cached = write_job_bytecode()
    print(f"bytecode cache: wrote {written} file(s), {cached} already cached", flush=True)


def cmd_tracked(args) -> None:
    from .paper.docs import rebuild_commands

    print("\n".join(rebuild_commands()), flush=True)


REQUIRED = {"required": True}
IDENTITY = (["--identity"], {"default": "{}", "help": "JSON labels copied into the result"})


def command(sub, name, func, help_text, *arguments) -> None:
    p = sub.add_parser(name, help=help_text)
    for flags, options in arguments:
        p.add_argument(*flags, **options)
    p.set_defaults(func=func)


def data_and_run_commands(sub) -> None:
    """fetch, prepare, train and the analyses of a trained run."""
    command(sub, "fetch", cmd_fetch, "download or copy a source's official files, verifying md5",
            (["--source"], REQUIRED), (["--dest"], REQUIRED),
            (["--mirror"], {"help": "offline mirror directory holding <source>/<file>"}),
            (["--retries"], {"type": int, **REQUIRED}), (["--no-network"], {"action": "store_true"}),
            (["--params"], {"default": "{}", "help": "JSON: the source's config entry (accept_terms is checked first)"}))
    command(sub, "prepare", cmd_prepare, "build a source's split .npz",
            (["--source"], REQUIRED), (["--raw"], {"help": "folder of raw files (sources that have them)"}),
            (["--params"], {"help": "JSON: the source's config entry", **REQUIRED}), (["--out"], REQUIRED))
    command(sub, "train", cmd_train, "train one model",
            (["--spec"], {"help": "JSON TrainSpec", **REQUIRED}), (["--out"], REQUIRED),
            (["--resume"], {"help": "side checkpoint to resume from and update", **REQUIRED}))
    command(sub, "analyse", cmd_analyse, "one analysis of a trained run (metrics, probes, checks, angles: ald.analyses)",
            (["analysis"], {"choices": tuple(ANALYSES)}), (["--run-dir"], REQUIRED), IDENTITY, (["--out"], REQUIRED),
            (["--settings"], {"help": "JSON: the analysis' settings (ald.analyses.Analysis.settings)", **REQUIRED}))


def artifact_commands(sub) -> None:
    """Tables, figures, claims and the summary."""
    command(sub, "table", cmd_table, "write a table (csv, md, tex) from metrics or probe files",
            (["table"], {"choices": TABLES}),
            (["--inputs"], {"nargs": "*", "default": [], "help": "metrics or probe files"}),
            (["--rows"], {"help": "JSON rows of the parameters table (ald.plan.Plan.parameter_rows)"}),
            (["--notes"], {"default": "[]", "help": "JSON list of notes printed under the table"}),
            (["--header"], {"default": "[]", "help": "JSON list of lines the table opens with (the settings)"}),
            (["--left-out"], {"default": "[]", "help": "JSON list of the runs left out (identity and reason)"}),
            (["--outputs"], {"nargs": "+", "help": "files to write: .csv, .md and/or .tex", **REQUIRED}))
    command(sub, "figure", cmd_figure, "draw a figure (png and pdf)",
            (["figure"], {"choices": FIGURES}),
            (["--inputs"], {"help": "JSON: the run folders, probe, angles or history files it shows", **REQUIRED}),
            (["--why"], {"default": "", "help": "why the figure may have nothing to show (ald.plan.Plan.missing_figure_reason)"}),
            (["--test-seed"], {"type": int, **REQUIRED}),
            (["--note"], {"default": "", "help": "the settings (and panels left out) written in the figure's corner"}),
            (["--left-out"], {"default": "[]", "help": "JSON list of the panels left out and why (ald.plan.Plan.figure_left_out)"}),
            (["--record"], {"default": "", "help": "a .json file to write the inputs the figure was drawn from into"}),
            (["--outputs"], {"nargs": "+", "help": "files to write: .png and/or .pdf", **REQUIRED}))
    command(sub, "claims", cmd_claims, "the paper's claims with verdicts (csv, md) from the tables and the tau sweep",
            (["--tables"], {"help": "JSON: table name -> its CSV", **REQUIRED}),
            (["--sweep"], {"help": "JSON: curve -> tau -> probe file (Figure 3's inputs)", **REQUIRED}),
            (["--checks"], {"help": "JSON: dataset -> checks file (group laws, latent swap)", **REQUIRED}),
            (["--notes"], {"default": "[]", "help": "JSON list of notes printed under the claims"}),
            (["--header"], {"default": "[]", "help": "JSON list of lines the claims open with (the settings)"}),
            (["--outputs"], {"nargs": "+", "help": "files to write: .csv and/or .md", **REQUIRED}))
    command(sub, "summary", cmd_summary, "a result set in under 100 columns: Table 1's PSNR cells and the claims' verdicts",
            (["--table1"], {"help": "table1.csv", **REQUIRED}), (["--claims"], {"help": "claims.csv (optional)"}),
            (["--header"], {"default": "[]", "help": "JSON list of lines it opens with (the settings)"}),
            (["--others"], {"nargs": "*", "default": [], "help": "the other tables' CSVs and the tau sweep's probe "
                            "files, for the whole set's training time"}),
            (["--output"], {"help": "the .md file to write", **REQUIRED}))


def tool_commands(sub) -> None:
    """transform, and the generated docs."""
    command(sub, "transform", cmd_transform,
            "apply a trained run to an image or volume: T_g(x) for a group element, or the latent swap of two inputs",
            (["--run"], {"help": "the run's folder (run.json and best.pt), e.g. a released checkpoint's", **REQUIRED}),
            (["--input"], {"help": "PNG, JPEG, .npy, .nii or .nii.gz", **REQUIRED}),
            (["--out"], {"help": "where to write the result, in the input's format", **REQUIRED}),
            (["--angle"], {"type": float, "help": "degrees: C4 (a multiple of 90), SO2; SO3 and O with --axis"}),
            (["--axis"], {"type": numbers, "help": "SO3, O: the rotation axis as depth,row,column, e.g. 1,0,0"}),
            (["--euler"], {"type": numbers, "help": "SO3: intrinsic z-y-x Euler angles in degrees, e.g. 30,0,45"}),
            (["--cube-index"], {"type": int, "help": "O: the cube rotation 0-23"}),
            (["--swap-with"], {"help": "a second input: decode z_v of --input with z_i of this one"}),
            (["--device"], {"default": "auto", "help": "auto, cpu, cuda or cuda:N"}))
    command(sub, "docs", cmd_docs, "write docs/results.md and the generated blocks of README.md and docs/ from the tracked files",
            (["--check"], {"action": "store_true", "help": "only list what differs; fail if anything does"}))
    command(sub, "bytecode", cmd_bytecode, "write the bytecode cache of the modules the workflow's jobs import (make setup does)")
    command(sub, "tracked", cmd_tracked, "print the Snakemake arguments that rebuild each tracked result set (profiles/tracked.yaml)")


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="ald", description=__doc__)
    sub = main_parser.add_subparsers(dest="command", required=True)
    for add in (data_and_run_commands, artifact_commands, tool_commands):
        add(sub)
    return main_parser


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except Exception as exc:  # one clear line on stderr for the rule's log, then the traceback
        print(f"ald {args.command}: error: {exc}", file=sys.stderr, flush=True)
        raise


if __name__ == "__main__":
    main()
