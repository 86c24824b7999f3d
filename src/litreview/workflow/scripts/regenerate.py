"""Compute the declared report: tables, figures and metrics from the extraction tables."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.regenerate_outputs,
    snakemake.input.studies,
    snakemake.input.prisma,
    snakemake.params.config,
    snakemake.params.out_dir,
)
