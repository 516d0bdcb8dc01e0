# Analyses of a trained run (ald.analyses.ANALYSES): metrics (Tables 1-2), probes (Table 3), checks (claims), angles.
rule analyse:
    input:
        rules.train.output.checkpoint,
        rules.train.output.record,
        lambda w: PLAN.source_npz(w.dataset),  # the test pairs are drawn from it
    output:
        f"{RESULTS}/{{analysis}}/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.json",
    log:
        f"{LOGS}/{{analysis}}/{{dataset}}/{{group}}/{{model}}/seed{{seed}}.log",
    conda:
        ENV
    threads: THREADS
    resources:
        runtime=lambda w, attempt: attempt * ANALYSES[w.analysis].minutes,
        mem_mb=lambda w, attempt: attempt * ANALYSES[w.analysis].mem_mb,
    params:
        run_dir=lambda w, input: os.path.dirname(input[0]),
        settings=lambda w: quoted_json(ANALYSES[w.analysis].settings(SETTINGS)),
        identity=lambda w: quoted_json(PLAN.identity(run_of(w))),
    shell:
        "python -m ald.cli analyse {wildcards.analysis} --run-dir {params.run_dir:q} --settings {params.settings}"
        " --identity {params.identity} --out {output:q} > {log:q} 2>&1"
