rule make_table:
    input:
        lambda w: PLAN.table_inputs(w.table),
    output:
        report(
            expand(
                f"{RESULTS}/tables/{{{{table}}}}.{{ext}}", ext=["csv", "md", "tex"]
            ),
            caption="../report/table.rst",
            category="Tables",
        ),
    log:
        f"{LOGS}/tables/{{table}}.log",
    wildcard_constraints:
        table="table[123]",
    localrule: True
    conda:
        ENV
    params:
        stem=lambda w, output: os.path.splitext(output[0])[0],
        notes=lambda w: quoted_json(PLAN.table_notes(w.table)),
    shell:
        "python -m ald.cli table {wildcards.table} --inputs {input} --notes {params.notes}"
        " --out-stem {params.stem} > {log} 2>&1"


rule make_figure:
    input:
        lambda w: PLAN.figure_input_files(w.figure),
    output:
        report(
            expand(f"{RESULTS}/figures/{{{{figure}}}}.{{ext}}", ext=["png", "pdf"]),
            caption="../report/figure.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/{{figure}}.log",
    wildcard_constraints:
        figure="figure2|figure3|figure5|swap",
    localrule: True
    conda:
        ENV
    params:
        stem=lambda w, output: os.path.splitext(output[0])[0],
        inputs=lambda w: quoted_json(PLAN.figure_inputs(w.figure)),
        test_seed=SETTINGS["evaluation"]["test_seed"],
    shell:
        "python -m ald.cli figure {wildcards.figure} --inputs {params.inputs}"
        " --test-seed {params.test_seed} --out-stem {params.stem} > {log} 2>&1"
