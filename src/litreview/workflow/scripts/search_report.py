"""The search report (PRISMA-S) from the snapshot's manifest and the tables."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.search_report_output,
    snakemake.input.pointer,
    snakemake.input.identified,
    snakemake.input.clusters,
    snakemake.input.changes,
    snakemake.params.screening,
    snakemake.output.md,
)
