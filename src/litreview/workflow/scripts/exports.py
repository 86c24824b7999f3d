"""Record sets as RIS, BibTeX, CSV and XLSX for reference managers and spreadsheets."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.export_outputs,
    snakemake.input.deduplicated,
    snakemake.input.screened,
    snakemake.input.queue,
    snakemake.params.folder,
)
