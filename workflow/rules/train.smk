rule train:
    input:
        npz=source_npz,
    output:
        checkpoint=f"{RESULTS}/models/{{dataset}}/{{group}}/{{model}}/seed{{seed}}/best.pt",
        history=f"{RESULTS}/models/{{dataset}}/{{group}}/{{model}}/seed{{seed}}/history.csv",
        record=f"{RESULTS}/models/{{dataset}}/{{group}}/{{model}}/seed{{seed}}/run.json",
    log:
        f"{LOGS}/train/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.log",
    retries: 2
    conda:
        ENV
    threads: config["training"].get("threads", 2)
    resources:
        runtime=train_minutes,
        mem_mb=per_attempt(2000),
        gpu=train_gpus(),
    params:
        spec=train_spec,
        out=lambda w, output: os.path.dirname(output.checkpoint),
        # The side checkpoint is not an output, so Snakemake never deletes it after a failure
        # or a kill; a rerun resumes from it.
        resume=lambda w: f"{RESULTS}/resume/{w.dataset}/{w.group}/{w.model}/seed{w.seed}.pt",
    shell:
        "python -m ald.cli train --spec {params.spec} --out {params.out} --resume {params.resume} >> {log} 2>&1"
