"""PRISMA 2020 numbers from the tables, checked, in the R package's layout, and drawn."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.prisma_outputs,
    snakemake.input.identified,
    snakemake.input.clusters,
    snakemake.input.screened,
    snakemake.params.screening,
    snakemake.params.prisma,
    snakemake.output.csv,
    snakemake.output.svg,
    snakemake.output.png,
    snakemake.output.metrics,
    origin=stages.origin_of(snakemake.input.pointer),
    title=snakemake.params.title,
    other_labels=snakemake.params.other_labels,
    search=stages.search_of(snakemake.input.pointer),
    snapshot_name=stages.read_pointer(snakemake.input.pointer)["name"],
    versions_folder=snakemake.params.versions_folder,
)
