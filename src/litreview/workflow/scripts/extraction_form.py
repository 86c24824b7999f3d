"""The blank extraction workbook: one row per included study, drop-downs, field descriptions."""

from litreview import stages
from litreview.log import run_step

run_step(
    snakemake.log[0],
    stages.write_blank_form,
    snakemake.input.screened,
    snakemake.params.config,
    snakemake.output.form,
)
