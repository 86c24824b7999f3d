"""What changed since the previous snapshot: changes.csv and changes.md."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.change_outputs,
    snakemake.input.pointer,
    snakemake.input.screened,
    snakemake.params.search,
    snakemake.params.changes,
    snakemake.output.csv,
    snakemake.output.md,
    deduplicated_path=snakemake.input.deduplicated,
    retraction_watch=snakemake.params.retraction_watch,
    watch_path=snakemake.output.watch,
    clusters_path=snakemake.input.clusters,
    orphans_path=snakemake.input.orphans,
)
