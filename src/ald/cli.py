"""Command-line entry points; each Snakemake rule calls one of these (``ald <command> ...``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cmd_fetch(args) -> None:
    from .acquire import SOURCE_FILES, AcquisitionError, fetch

    mirror = Path(args.mirror) / args.source if args.mirror else None
    failures = []
    for spec in SOURCE_FILES[args.source].values():
        try:
            path = fetch(spec, Path(args.dest) / spec.name, mirror=mirror, retries=args.retries,
                         allow_network=not args.no_network)
            print(f"{path}: md5 {spec.md5} verified", flush=True)
        except AcquisitionError as exc:
            failures.append(str(exc))
    if failures:  # report every missing or bad file at once, not just the first
        raise AcquisitionError(f"{len(failures)} file(s) of source {args.source!r} failed:\n" + "\n".join(failures))


def cmd_prepare(args) -> None:
    from .data import SOURCES, save_source

    params = json.loads(args.params)
    if args.raw:
        params["raw_dir"] = Path(args.raw)
    arrays = SOURCES[args.source](**params)
    save_source(arrays, Path(args.out))
    print(json.dumps({k: list(v.shape) for k, v in arrays.items()}), flush=True)


def cmd_train(args) -> None:
    from .training import TrainSpec, train

    spec = TrainSpec(**json.loads(args.spec))
    train(spec, Path(args.out), Path(args.resume), log=lambda line: print(line, flush=True))


def cmd_evaluate(args) -> None:
    from .evaluate import evaluate

    result = evaluate(Path(args.checkpoint), Path(args.run_json), args.test_seed, Path(args.out),
                      identity=json.loads(args.identity))
    print(json.dumps({k: result[k] for k in ("psnr", "ssim", "rmse", "n_variant_channels")}), flush=True)


def cmd_table1(args) -> None:
    from .tables import load_metrics, table1, write_table

    stats = table1(load_metrics([Path(p) for p in args.metrics]))
    write_table(stats, Path(args.out_stem), "Table 1: learning group actions (PSNR, SSIM, RMSE on test pairs)",
                json.loads(args.notes))
    print(stats.to_string(), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ald", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("fetch", help="download or copy a source's official files, verifying md5")
    p.add_argument("--source", required=True)
    p.add_argument("--dest", required=True)
    p.add_argument("--mirror", help="offline mirror directory holding <source>/<file>")
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--no-network", action="store_true")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("prepare", help="build a source's split .npz")
    p.add_argument("--source", required=True)
    p.add_argument("--raw", help="folder of raw files (sources that have them)")
    p.add_argument("--params", default="{}", help="JSON keyword arguments for the source")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("train", help="train one model")
    p.add_argument("--spec", required=True, help="JSON TrainSpec")
    p.add_argument("--out", required=True)
    p.add_argument("--resume", required=True, help="side checkpoint to resume from and update")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a trained model on its test pairs")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--run-json", required=True)
    p.add_argument("--test-seed", type=int, required=True)
    p.add_argument("--identity", default="{}", help="JSON labels copied into the result")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("table1", help="write Table 1 from metrics files")
    p.add_argument("--metrics", nargs="+", required=True)
    p.add_argument("--notes", default="[]", help="JSON list of notes printed under the table")
    p.add_argument("--out-stem", required=True)
    p.set_defaults(func=cmd_table1)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except Exception as exc:  # one clear line on stderr for the rule's log, then the traceback
        print(f"ald {args.command}: error: {exc}", file=sys.stderr, flush=True)
        raise


if __name__ == "__main__":
    main()
