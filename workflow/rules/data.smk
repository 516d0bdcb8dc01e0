# One fetch rule per configured source that has official files (fetch_mnist, ...), one prepare rule for all.
for _source in [s for s in SETTINGS["sources"] if PLAN.raw_files(s)]:

    rule:
        name:
            f"fetch_{_source}"
        output:
            PLAN.raw_files(_source),
        log:
            f"{DATA}/logs/fetch/{_source}.log",
        retries: 2
        localrule: True
        conda:
            ENV
        params:
            source=_source,
            dest=lambda w, output: os.path.dirname(output[0]),
            mirror=(
                f"--mirror {shlex.quote(SETTINGS['data']['mirror'])}"
                if SETTINGS["data"]["mirror"]
                else ""
            ),
            network="" if SETTINGS["data"]["allow_network"] else "--no-network",
            retries=SETTINGS["data"]["retries"],
            # accept_terms alone, checked before any download: a change of another parameter (e.g. size) must
            # not make Snakemake rerun the fetch, which would delete the file it has.
            terms=quoted_json(
                {
                    "accept_terms": SETTINGS["sources"][_source].get(
                        "accept_terms", False
                    )
                }
            ),
        shell:
            "python -m ald.cli fetch --source {params.source} --dest {params.dest:q} {params.mirror}"
            " {params.network} --retries {params.retries} --params {params.terms} > {log:q} 2>&1"


rule prepare:
    input:
        lambda w: PLAN.prepare_inputs(w.source),  # official files, or the files of a folder of your own
    output:
        f"{DATA}/prepared/{{source}}.npz",
    log:
        f"{DATA}/logs/prepare/{{source}}.log",
    conda:
        ENV
    resources:
        runtime=per_attempt(60),  # OASIS: checksums of 6.6 GB, extraction, 414 volumes
        mem_mb=per_attempt(2000),
    params:
        raw=lambda w: f"{DATA}/raw/{w.source}",
        args=lambda w: quoted_json(SETTINGS["sources"][w.source]),
    shell:
        "python -m ald.cli prepare --source {wildcards.source} --raw {params.raw:q} --params {params.args}"
        " --out {output:q} > {log:q} 2>&1"
