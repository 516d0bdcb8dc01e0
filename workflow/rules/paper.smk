rule make_table:
    input:
        files=lambda w: PLAN.table_inputs(w.table),
        stale=lambda w: PLAN.stale_trigger(
            PLAN.table_files(w.table)[0], PLAN.table_differences(w.table)
        ),
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
    conda:
        ENV
    params:
        notes=lambda w: quoted_json(PLAN.table_notes(w.table)),
        header=lambda w: quoted_json(PLAN.table_header(w.table)),
        left_out=lambda w: quoted_json(PLAN.table_left_out(w.table)),
        # Not in the command: the caption report/table.rst shows.
        caption=lambda w: PLAN.table_caption(w.table),
        rows=lambda w: (
            f"--rows {quoted_json(PLAN.parameter_rows())}"
            if w.table == "parameters"
            else ""
        ),
    shell:
        "python -m ald.cli table {wildcards.table} --inputs {input.files:q} {params.rows} --notes {params.notes}"
        " --header {params.header} --left-out {params.left_out}"
        " --outputs {output:q} > {log:q} 2>&1"


rule make_figure:
    input:
        files=lambda w: PLAN.figure_input_files(w.figure),
        stale=lambda w: PLAN.stale_trigger(
            PLAN.figure_record(w.figure), PLAN.figure_differences(w.figure)
        ),
    output:
        report(
            expand(f"{RESULTS}/figures/{{{{figure}}}}.{{ext}}", ext=["png", "pdf"]),
            caption="../report/figure.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/{{figure}}.log",
    conda:
        ENV
    params:
        inputs=lambda w: quoted_json(PLAN.figure_inputs(w.figure)),
        why=lambda w: shlex.quote(PLAN.missing_figure_reason(w.figure) or ""),
        test_seed=SETTINGS["evaluation"]["test_seed"],
        # Raw, so that the caption (report/figure.rst) states the same settings; the shell quotes it.
        note=lambda w: PLAN.figure_note(w.figure),
        # The report's caption, the figure's own (ald.paper.figures); not used by the shell.
        caption=lambda w: PLAN.figure_caption(w.figure),
        # Not an output, so that a figure drawn before these records existed is not redrawn for the lack of one.
        record=lambda w: PLAN.figure_record(w.figure),
        left_out=lambda w: quoted_json(PLAN.figure_left_out(w.figure)),
    shell:
        "python -m ald.cli figure {wildcards.figure} --inputs {params.inputs} --why {params.why} --note {params.note:q}"
        " --test-seed {params.test_seed} --record {params.record:q} --left-out {params.left_out}"
        " --outputs {output:q} > {log:q} 2>&1"


rule make_claims:
    input:
        PLAN.claims_input_files(),
    output:
        report(
            PLAN.claims_files(),
            caption="../report/claims.rst",
            category="Claims",
        ),
    log:
        f"{LOGS}/claims.log",
    conda:
        ENV
    params:
        tables=quoted_json(PLAN.claims_tables()),
        sweep=quoted_json(PLAN.figure_inputs("figure3")),
        checks=quoted_json(PLAN.claims_checks()),
        notes=quoted_json(PLAN.claims_notes()),
        header=quoted_json([PLAN.settings_line()]),
    shell:
        "python -m ald.cli claims --tables {params.tables} --sweep {params.sweep} --checks {params.checks}"
        " --notes {params.notes} --header {params.header}"
        " --outputs {output:q} > {log:q} 2>&1"


rule make_summary:
    input:
        **PLAN.summary_inputs(),
    output:
        report(PLAN.summary_file(), caption="../report/summary.rst", category="Summary"),
    log:
        f"{LOGS}/summary.log",
    conda:
        ENV
    params:
        header=quoted_json([PLAN.settings_line()]),
    shell:
        "python -m ald.cli summary --table1 {input.table1:q} --claims {input.claims:q} --header {params.header}"
        " --others {input.others:q} --output {output:q} > {log:q} 2>&1"
