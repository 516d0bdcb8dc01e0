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


rule all:
    default_target: True
    input:
        all_targets(),


rule table1:
    input:
        table_files("table1"),
