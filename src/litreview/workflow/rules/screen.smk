# Screen: automatic criteria and reviewers' decisions, the queue, and the PRISMA 2020 flow.


rule screen:
    input:
        deduplicated=rules.dedup.output.deduplicated,
        clusters=rules.dedup.output.clusters,
        sheets=config["screening"]["sheets"],
        pointer=ancient(rules.snapshot.output.pointer),
    output:
        screened=report(
            "results/screening/screened.tsv",
            caption="../report/screened.rst",
            category="3. Screening",
        ),
        overrules="results/screening/overrules.tsv",
        conflicts="results/screening/conflicts.tsv",
        queue_csv="results/screening/queue.csv",
        queue_xlsx="results/screening/queue.xlsx",
        orphans="results/screening/orphans.tsv",
    log:
        "logs/screen/screen.log",
    params:
        screening=config["screening"],
        search=config["search"],
    run:
        run_step(
            log[0],
            stages.screen_records,
            input.deduplicated,
            input.clusters,
            params.screening,
            output.screened,
            output.overrules,
            output.conflicts,
            output.queue_csv,
            output.queue_xlsx,
            output.orphans,
            search=params.search,
            pointer_path=input.pointer,
        )


rule prisma:
    input:
        identified=rules.identify.output.identified,
        clusters=rules.dedup.output.clusters,
        screened=rules.screen.output.screened,
        pointer=ancient(rules.snapshot.output.pointer),
    output:
        csv="results/prisma/prisma.csv",
        svg=report(
            "results/prisma/prisma.svg",
            caption="../report/prisma.rst",
            category="3. Screening",
        ),
        png="results/prisma/prisma.png",
        metrics="results/prisma/metrics.tsv",
    log:
        "logs/screen/prisma.log",
    params:
        screening=config["screening"],
        prisma=config["prisma"],
        # the keyword arguments of the step; those read from the snapshot's pointer when it runs
        options=lambda wildcards, input: {
            "origin": stages.origin_of(input.pointer),
            "title": config["review"]["title"],
            "other_labels": config["prisma"]["other_labels"],
            "search": stages.search_of(input.pointer),
            "snapshot_name": stages.read_pointer(input.pointer)["name"],
            "versions_folder": config["versions"]["folder"],
        },
    run:
        run_step(
            log[0],
            stages.prisma_outputs,
            input.identified,
            input.clusters,
            input.screened,
            params.screening,
            params.prisma,
            output.csv,
            output.svg,
            output.png,
            output.metrics,
            **params.options,
        )


rule exports:
    input:
        deduplicated=rules.dedup.output.deduplicated,
        screened=rules.screen.output.screened,
        queue=rules.screen.output.queue_csv,
    output:
        expand(
            "results/exports/{set}.{ext}",
            set=["included", "queue", "deduplicated"],
            ext=["ris", "bib", "csv", "xlsx"],
        ),
    log:
        "logs/screen/exports.log",
    params:
        folder=lambda wildcards, output: str(Path(output[0]).parent),
    run:
        run_step(
            log[0],
            stages.export_outputs,
            input.deduplicated,
            input.screened,
            input.queue,
            params.folder,
        )


rule versions:
    input:
        pointer=ancient(rules.snapshot.output.pointer),
        screened=rules.screen.output.screened,
        prisma=rules.prisma.output.metrics,
        sheets=config["screening"]["sheets"],
    output:
        csv=report(
            "results/versions/versions.csv",
            caption="../report/versions.rst",
            category="3. Screening",
        ),
        cumulative="results/versions/cumulative.csv",
        svg="results/versions/cumulative.svg",
    log:
        "logs/screen/versions.log",
    params:
        versions=config["versions"],
    run:
        run_step(
            log[0],
            stages.version_outputs,
            input.pointer,
            input.screened,
            input.prisma,
            list(input.sheets),
            params.versions,
            output.csv,
            output.cumulative,
            output.svg,
        )
