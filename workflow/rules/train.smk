rule train:
    input:
        npz=lambda w: PLAN.source_npz(w.dataset),
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
        "python -m ald.cli train --spec {params.spec} --out {params.out} --resume {params.resume} >> {log} 2>&1"
