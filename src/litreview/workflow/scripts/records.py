"""Parse the replayed snapshot's PubMed XML into the record tables."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.snapshot_records,
    snakemake.input.pointer,
    snakemake.output.records,
    snakemake.output.resolved,
)
