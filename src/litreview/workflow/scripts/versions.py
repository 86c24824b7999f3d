"""Record a new version of the review when its included set or PRISMA numbers change."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.version_outputs,
    snakemake.input.pointer,
    snakemake.input.screened,
    snakemake.input.prisma,
    list(snakemake.input.sheets),
    snakemake.params.versions,
    snakemake.output.csv,
    snakemake.output.cumulative,
    snakemake.output.svg,
)
