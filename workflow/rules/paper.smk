rule make_table1:
    input:
        metrics_files(model_runs()),
    output:
        report(table_files("table1"), caption="../report/table1.rst", category="Tables"),
    log:
        f"{LOGS}/tables/table1.log",
    conda:
        ENV
    params:
        stem=lambda w, output: os.path.splitext(output[0])[0],
        notes=lambda w: quoted_json(table_notes()),
    shell:
        "python -m ald.cli table1 --metrics {input} --notes {params.notes} --out-stem {params.stem} > {log} 2>&1"
