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


TABLES = {
    "table1": ("metrics", "Table 1: learning group actions (PSNR, SSIM, RMSE on test pairs)"),
    "table2": ("metrics", "Table 2: loss ablation (reconstruction always on)"),
    "table3": ("probes", "Table 3: linear probes of the latent parts (test-split scores, %)"),
}


def cmd_table(args) -> None:
    from . import tables

    kind, title = TABLES[args.table]
    loader = tables.load_metrics if kind == "metrics" else tables.load_probes
    stats = getattr(tables, args.table)(loader([Path(p) for p in args.inputs]))
    shown = getattr(tables, f"{args.table}_display")(stats)
    tables.write_table(stats, shown, Path(args.out_stem), title, json.loads(args.notes))
    print(shown.to_string(), flush=True)


def cmd_probe(args) -> None:
    from .data import pair_set
    from .probes import probe_model
    from .training import TrainSpec, load_trained

    spec = TrainSpec(**json.loads(Path(args.run_json).read_text())["parameters"])
    model = load_trained(Path(args.checkpoint), Path(args.run_json))
    train_pairs = pair_set(spec.source_npz, "train", model.group, spec.block, args.probe_seed)
    test_pairs = pair_set(spec.source_npz, "test", model.group, spec.block, args.test_seed)
    parts = probe_model(model, train_pairs, test_pairs, args.train_items, args.test_items, args.c, args.max_iter)
    result = {"identity": json.loads(args.identity), "tau": model.tau, "n_variant_channels": model.n_variant(),
              "n_channels": model.mask_logits.numel(), "train_items": min(args.train_items, len(train_pairs)),
              "test_items": min(args.test_items, len(test_pairs)), "classifier": "StandardScaler + LogisticRegression",
              "C": args.c, "max_iter": args.max_iter, "parts": parts}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(parts), flush=True)


def flat_paths(value) -> list[str]:
    """Every path in a nested structure of dicts and lists of paths."""
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value
    return [p for item in items for p in flat_paths(item)]


def cmd_figure(args) -> None:
    from . import figures
    from .data import pair_set
    from .training import TrainSpec, load_trained

    def model_and_pairs(checkpoint, run_json):
        spec = TrainSpec(**json.loads(Path(run_json).read_text())["parameters"])
        model = load_trained(Path(checkpoint), Path(run_json))
        return model, pair_set(spec.source_npz, "test", model.group, spec.block, args.test_seed)

    inputs = json.loads(args.inputs)
    stem = Path(args.out_stem)
    missing = [p for p in flat_paths(inputs) if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"{args.figure} needs {len(missing)} missing input(s): {', '.join(missing)}. "
                                f"Build them first, e.g. `snakemake --cores 2 {missing[0]}`, or run the figure's target.")
    if args.figure == "figure2":  # inputs: {dataset: {variant: [checkpoint, run_json]}}
        panels = {}
        for dataset, variants in inputs.items():
            loaded = {v: model_and_pairs(*paths) for v, paths in variants.items()}
            panels[dataset] = ({v: m for v, (m, _) in loaded.items()}, next(iter(loaded.values()))[1])
        figures.loss_ablation_figure(panels, stem)
    elif args.figure == "figure3":  # inputs: [probe json, ...]
        figures.tau_sweep_figure([Path(p) for p in inputs], stem)
    else:  # figure5 / swap: inputs: [checkpoint, run_json]
        model, pairs = model_and_pairs(*inputs)
        draw = figures.latent_magnitude_figure if args.figure == "figure5" else figures.latent_swap_figure
        draw(model, pairs, stem)
    print(f"wrote {stem}.png and {stem}.pdf", flush=True)


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

    p = sub.add_parser("table", help="write a table (csv, md, tex) from metrics or probe files")
    p.add_argument("table", choices=sorted(TABLES))
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--notes", default="[]", help="JSON list of notes printed under the table")
    p.add_argument("--out-stem", required=True)
    p.set_defaults(func=cmd_table)

    p = sub.add_parser("probe", help="linear probes of z, z_i and z_v of a trained model")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--run-json", required=True)
    p.add_argument("--probe-seed", type=int, default=0)
    p.add_argument("--test-seed", type=int, default=0)
    p.add_argument("--train-items", type=int, default=10000)
    p.add_argument("--test-items", type=int, default=10000)
    p.add_argument("--c", type=float, default=1.0)
    p.add_argument("--max-iter", type=int, default=1000)
    p.add_argument("--identity", default="{}")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("figure", help="draw a figure (png and pdf)")
    p.add_argument("figure", choices=["figure2", "figure3", "figure5", "swap"])
    p.add_argument("--inputs", required=True, help="JSON: the trained models or probe files it shows")
    p.add_argument("--test-seed", type=int, default=0)
    p.add_argument("--out-stem", required=True)
    p.set_defaults(func=cmd_figure)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except Exception as exc:  # one clear line on stderr for the rule's log, then the traceback
        print(f"ald {args.command}: error: {exc}", file=sys.stderr, flush=True)
        raise


if __name__ == "__main__":
    main()
