rule train:
    input:
        npz=lambda w: PLAN.source_npz(w.dataset),
        # A run record made with other settings than this config's is retrained (resuming only when that is exact).
        stale=lambda w: PLAN.stale_trigger(
            f"{PLAN.run_dir(run_of(w))}/run.json", PLAN.record_differences(run_of(w))
        ),
    output:
        checkpoint=f"{RESULTS}/models/{{dataset}}/{{group}}/{{model}}/seed{{seed}}/best.pt",
        history=f"{RESULTS}/models/{{dataset}}/{{group}}/{{model}}/seed{{seed}}/history.csv",
        record=f"{RESULTS}/models/{{dataset}}/{{group}}/{{model}}/seed{{seed}}/run.json",
    log:
        f"{LOGS}/train/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.log",
    retries: 2
    conda:
        ENV
    threads: THREADS
    resources:
        runtime=train_minutes,
        mem_mb=per_attempt(2000),
        gpu_permille=train_gpu_permille(),
    params:
        spec=lambda w: quoted_json(PLAN.train_spec(run_of(w))),
        out=lambda w, output: os.path.dirname(output.checkpoint),
        # The side checkpoint is not an output, so Snakemake never deletes it after a failure
        # or a kill; a rerun resumes from it.
        resume=lambda w: f"{RESULTS}/resume/{run_of(w).key}.pt",
    shell:
        "python -m ald.cli train --spec {params.spec} --out {params.out:q} --resume {params.resume:q} >> {log:q} 2>&1"
