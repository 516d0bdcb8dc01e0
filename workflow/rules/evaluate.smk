rule evaluate:
    input:
        checkpoint=rules.train.output.checkpoint,
        record=rules.train.output.record,
    output:
        f"{RESULTS}/metrics/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.json",
    log:
        f"{LOGS}/evaluate/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.log",
    conda:
        ENV
    threads: config["training"].get("threads", 2)
    params:
        test_seed=config["evaluation"].get("test_seed", 0),
        identity=lambda w: quoted_json(
            dict(
                dataset=w.dataset,
                paper_row=config["datasets"][w.dataset]["paper_row"],
                group=w.group,
                model=w.model,
                paper_column=config["models"][w.model]["paper_column"],
                seed=int(w.seed),
            )
        ),
    shell:
        "python -m ald.cli evaluate --checkpoint {input.checkpoint} --run-json {input.record}"
        " --test-seed {params.test_seed} --identity {params.identity} --out {output} > {log} 2>&1"
