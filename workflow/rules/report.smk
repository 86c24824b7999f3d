# Extraction sheets, the review's regenerated tables and figures, and the audit.

REGENERATED_TABLES = [
    "counts",
    "fig1_cell_sources",
    "table1_modified",
    "fig2_dose_per_kg",
    "fig3_timing",
    "table2_mechanisms",
    "table2_mechanisms_matrix",
    "tableS1_tbi",
    "table3_clinical",
]
REGENERATED_FIGURES = ["fig1_cell_sources", "fig2_dose_per_kg", "fig3_timing"]


rule extract:
    input:
        screened=rules.screen.output.screened,
        clusters=rules.dedup.output.clusters,
        pointer=rules.snapshot.output.pointer,
        sheets=extraction_sheets(),
    output:
        studies="results/extraction/studies.tsv",
        doses="results/extraction/doses.tsv",
        timings="results/extraction/timings.tsv",
        report=report(
            "results/extraction/validation.md",
            caption="../report/extraction.rst",
            category="4. Extraction",
        ),
    log:
        "logs/report/extract.log",
    conda:
        "../envs/litreview.yaml"
    params:
        extraction=config["extraction"],
        screening=config["screening"],
    script:
        "../scripts/extract.py"


rule regenerate:
    input:
        studies=rules.extract.output.studies,
        doses=rules.extract.output.doses,
        timings=rules.extract.output.timings,
    output:
        tables=expand(
            "results/tables/{table}.{ext}", table=REGENERATED_TABLES, ext=["csv", "md"]
        ),
        metrics="results/tables/metrics.tsv",
        figures=report(
            expand(
                "results/figures/{figure}.{ext}",
                figure=REGENERATED_FIGURES,
                ext=["png", "svg"],
            ),
            caption="../report/figures.rst",
            category="5. Results",
        ),
    log:
        "logs/report/regenerate.log",
    conda:
        "../envs/litreview.yaml"
    params:
        config=config,
        out_dir=lambda wildcards, output: str(Path(output.metrics).parent.parent),
    script:
        "../scripts/regenerate.py"


rule audit:
    input:
        metrics=rules.regenerate.output.metrics,
        studies=rules.extract.output.studies,
        published=config["audit"]["published"] or [],
        pointer=rules.snapshot.output.pointer,
    output:
        csv="results/audit/audit.csv",
        md=report(
            "results/audit/audit.md",
            caption="../report/audit.rst",
            category="5. Results",
        ),
    log:
        "logs/report/audit.log",
    conda:
        "../envs/litreview.yaml"
    params:
        audit=config["audit"],
        title=config["review"]["title"],
    script:
        "../scripts/audit.py"
