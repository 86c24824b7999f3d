"""Deduplicate the identified records and report every merge."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.deduplicate_records,
    snakemake.input.identified,
    snakemake.params.settings,
    snakemake.output.deduplicated,
    snakemake.output.duplicates,
    snakemake.output.clusters,
    snakemake.output.summary,
    origin=stages.origin_of(snakemake.input.pointer),
    files_path=snakemake.input.files,
)
