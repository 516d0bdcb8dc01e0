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
    resources:
        runtime=per_attempt(20),
        mem_mb=per_attempt(2000),
    params:
        test_seed=config["evaluation"].get("test_seed", 0),
        identity=identity,
    shell:
        "python -m ald.cli evaluate --checkpoint {input.checkpoint} --run-json {input.record}"
        " --test-seed {params.test_seed} --identity {params.identity} --out {output} > {log} 2>&1"


rule probe:
    input:
        checkpoint=rules.train.output.checkpoint,
        record=rules.train.output.record,
    output:
        f"{RESULTS}/probes/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.json",
    log:
        f"{LOGS}/probe/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.log",
    conda:
        ENV
    threads: config["training"].get("threads", 2)
    resources:
        runtime=per_attempt(30),
        mem_mb=per_attempt(4000),
    params:
        probe_seed=config["probes"].get("probe_seed", 0),
        test_seed=config["evaluation"].get("test_seed", 0),
        n_train=config["probes"].get("train_items", 10000),
        n_test=config["probes"].get("test_items", 10000),
        c=config["probes"].get("C", 1.0),
        max_iter=config["probes"].get("max_iter", 1000),
        identity=identity,
    shell:
        "python -m ald.cli probe --checkpoint {input.checkpoint} --run-json {input.record}"
        " --probe-seed {params.probe_seed} --test-seed {params.test_seed} --train-items {params.n_train}"
        " --test-items {params.n_test} --c {params.c} --max-iter {params.max_iter}"
        " --identity {params.identity} --out {output} > {log} 2>&1"
