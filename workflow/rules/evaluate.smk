rule evaluate:
    input:
        rules.train.output.checkpoint,
        rules.train.output.record,
    output:
        f"{RESULTS}/metrics/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.json",
    log:
        f"{LOGS}/evaluate/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.log",
    conda:
        ENV
    threads: THREADS
    resources:
        runtime=per_attempt(20),
        mem_mb=per_attempt(2000),
    params:
        run_dir=lambda w, input: os.path.dirname(input[0]),
        test_seed=SETTINGS["evaluation"]["test_seed"],
        identity=lambda w: quoted_json(PLAN.identity(run_of(w))),
    shell:
        "python -m ald.cli evaluate --run-dir {params.run_dir} --test-seed {params.test_seed}"
        " --identity {params.identity} --out {output} > {log} 2>&1"


rule probe:
    input:
        rules.train.output.checkpoint,
        rules.train.output.record,
    output:
        f"{RESULTS}/probes/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.json",
    log:
        f"{LOGS}/probe/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.log",
    conda:
        ENV
    threads: THREADS
    resources:
        runtime=per_attempt(30),
        mem_mb=per_attempt(4000),
    params:
        run_dir=lambda w, input: os.path.dirname(input[0]),
        settings=quoted_json(
            dict(SETTINGS["probes"], test_seed=SETTINGS["evaluation"]["test_seed"])
        ),
        identity=lambda w: quoted_json(PLAN.identity(run_of(w))),
    shell:
        "python -m ald.cli probe --run-dir {params.run_dir} --settings {params.settings}"
        " --identity {params.identity} --out {output} > {log} 2>&1"
