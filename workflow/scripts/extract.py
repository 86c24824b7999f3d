"""Validate the extraction sheets and normalise doses and timings."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.extract_studies,
    snakemake.input.screened,
    snakemake.input.clusters,
    snakemake.params.extraction,
    snakemake.params.screening,
    snakemake.output.studies,
    snakemake.output.doses,
    snakemake.output.timings,
    snakemake.output.report,
    origin=stages.origin_of(snakemake.input.pointer),
)
