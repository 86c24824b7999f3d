# Extraction sheets, the review's regenerated tables and figures, and the audit.

# The declared tables and figures (config `report:`), checked when the workflow loads.
REPORT_TABLES, REPORT_FIGURES = declared_report()
QUANTITIES = declared_quantities()


rule extraction_form:
    input:
        screened=rules.screen.output.screened,
    output:
        form="results/extraction/form.xlsx",
    log:
        "logs/report/extraction_form.log",
    params:
        config=config,
    run:
        run_step(
            log[0],
            stages.write_blank_form,
            input.screened,
            params.config,
            output.form,
        )


rule extract:
    input:
        screened=rules.screen.output.screened,
        clusters=rules.dedup.output.clusters,
        pointer=ancient(rules.snapshot.output.pointer),
        sheets=extraction_sheets(),
    output:
        studies="results/extraction/studies.tsv",
        quantities=expand("results/extraction/{quantity}.tsv", quantity=QUANTITIES),
        report=report(
            "results/extraction/validation.md",
            caption="../report/extraction.rst",
            category="4. Extraction",
        ),
    log:
        "logs/report/extract.log",
    params:
        config=config,
        origin=lambda wildcards, input: stages.origin_of(input.pointer),
    run:
        run_step(
            log[0],
            stages.extract_studies,
            input.screened,
            input.clusters,
            params.config,
            output.studies,
            output.report,
            origin=params.origin,
        )


rule regenerate:
    input:
        studies=rules.extract.output.studies,
        quantities=rules.extract.output.quantities,
        prisma=rules.prisma.output.metrics,
    output:
        tables=expand(
            "results/tables/{table}.{ext}", table=REPORT_TABLES, ext=["csv", "md"]
        ),
        metrics="results/tables/metrics.tsv",
        figures=report(
            expand(
                "results/figures/{figure}.{ext}",
                figure=REPORT_FIGURES,
                ext=["png", "svg"],
            ),
            caption="../report/figures.rst",
            category="5. Results",
        ),
    log:
        "logs/report/regenerate.log",
    params:
        config=config,
        out_dir=lambda wildcards, output: str(Path(output.metrics).parent.parent),
    run:
        run_step(
            log[0],
            stages.regenerate_outputs,
            input.studies,
            input.prisma,
            params.config,
            params.out_dir,
        )


rule audit:
    input:
        metrics=rules.regenerate.output.metrics,
        studies=rules.extract.output.studies,
        published=config["audit"]["published"] or [],
        pointer=ancient(rules.snapshot.output.pointer),
        watch=rules.changes.output.watch,
    output:
        csv="results/audit/audit.csv",
        md=report(
            "results/audit/audit.md",
            caption="../report/audit.rst",
            category="5. Results",
        ),
    log:
        "logs/report/audit.log",
    params:
        audit=config["audit"],
        title=config["review"]["title"],
        origin=lambda wildcards, input: stages.origin_of(input.pointer),
    run:
        run_step(
            log[0],
            stages.audit_outputs,
            input.metrics,
            input.studies,
            params.audit,
            output.csv,
            output.md,
            origin=params.origin,
            title=params.title,
            watch_path=input.watch,
        )
