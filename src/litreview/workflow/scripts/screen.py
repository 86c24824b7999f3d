"""Apply the automatic criteria and the reviewers' sheets; queue what nobody decided."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.screen_records,
    snakemake.input.deduplicated,
    snakemake.input.clusters,
    snakemake.params.screening,
    snakemake.output.screened,
    snakemake.output.overrules,
    snakemake.output.conflicts,
    snakemake.output.queue_csv,
    snakemake.output.queue_xlsx,
    snakemake.output.orphans,
    search=snakemake.params.search,
    pointer_path=snakemake.input.pointer,
)
