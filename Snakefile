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


# Downloads need the internet and tables take a second: both run on the head node under SLURM.
localrules:
    fetch_mnist,
    make_table,
    make_figure,


rule all:
    default_target: True
    input:
        all_targets(),


rule table1:
    input:
        table_files("table1"),


rule table2:
    input:
        table_files("table2"),


rule table3:
    input:
        table_files("table3"),


rule figure2:
    input:
        figure_files("figure2"),


rule figure3:
    input:
        figure_files("figure3"),


rule figure5:
    input:
        figure_files("figure5"),


rule swap:
    input:
        figure_files("swap"),
