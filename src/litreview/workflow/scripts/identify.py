"""Join the search's records with the records found by other methods."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.identify_records,
    snakemake.input.records,
    snakemake.input.resolved,
    (snakemake.input.other_sources or [None])[0],
    snakemake.output.identified,
    snakemake.output.unresolved,
    csv_mappings=snakemake.params.csv_mappings,
    files_path=snakemake.output.files,
)
