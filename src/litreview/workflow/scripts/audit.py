"""Set every regenerated number beside the published one and explain each difference."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.audit_outputs,
    snakemake.input.metrics,
    snakemake.input.studies,
    snakemake.params.audit,
    snakemake.output.csv,
    snakemake.output.md,
    origin=stages.origin_of(snakemake.input.pointer),
    title=snakemake.params.title,
    watch_path=snakemake.input.watch,
)
