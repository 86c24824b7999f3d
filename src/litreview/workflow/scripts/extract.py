"""Validate the extraction sheets against the declared form and normalise the quantities."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.extract_studies,
    snakemake.input.screened,
    snakemake.input.clusters,
    snakemake.params.config,
    snakemake.output.studies,
    snakemake.output.report,
    origin=stages.origin_of(snakemake.input.pointer),
)
