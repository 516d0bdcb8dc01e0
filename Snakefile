# ALD reproduction: "Learning Group Actions In Disentangled Latent Image Representations".
# The science lives in the `ald` package (src/ald); rules only wire files together.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/paper.smk"


# Tables and figures take seconds: under SLURM they run on the head node (as do the fetch rules).
localrules:
    make_table,
    make_figure,
    make_claims,


rule all:
    default_target: True
    input:
        PLAN.default_targets(),


# One target per table and figure (table1 ... swap), from the same list as `all`.
for _target, _files in PLAN.targets().items():

    rule:
        name:
            _target
        input:
            _files,
