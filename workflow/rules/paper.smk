rule make_table1:
    input:
        metrics_files(model_runs()),
    output:
        report(table_files("table1"), caption="../report/table1.rst", category="Tables"),
    log:
        f"{LOGS}/tables/table1.log",
    params:
        stem=f"{RESULTS}/tables/table1",
        notes=lambda w: quoted_json(table_notes()),
    shell:
        "ald table1 --metrics {input} --notes {params.notes} --out-stem {params.stem} > {log} 2>&1"
