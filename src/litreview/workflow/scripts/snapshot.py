"""Offline: verify the configured snapshot. Live: search PubMed now into a new snapshot."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.choose_snapshot,
    snakemake.params.search,
    snakemake.params.entrez,
    snakemake.output.pointer,
    other_sources=(snakemake.input.other_sources or [None])[0],
)
