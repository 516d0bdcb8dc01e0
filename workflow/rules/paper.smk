rule make_table:
    input:
        lambda w: TABLE_INPUTS[w.table](),
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
    conda:
        ENV
    params:
        stem=lambda w, output: os.path.splitext(output[0])[0],
        notes=lambda w: quoted_json(table_notes(w.table)),
    shell:
        "python -m ald.cli table {wildcards.table} --inputs {input} --notes {params.notes}"
        " --out-stem {params.stem} > {log} 2>&1"


rule make_figure:
    input:
        lambda w: flat_paths(FIGURE_INPUTS[w.figure]()),
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
    conda:
        ENV
    params:
        stem=lambda w, output: os.path.splitext(output[0])[0],
        inputs=lambda w: quoted_json(FIGURE_INPUTS[w.figure]()),
        test_seed=config["evaluation"].get("test_seed", 0),
    shell:
        "python -m ald.cli figure {wildcards.figure} --inputs {params.inputs}"
        " --test-seed {params.test_seed} --out-stem {params.stem} > {log} 2>&1"
