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
    conda:
        "../envs/litreview.yaml"
    params:
        screening=config["screening"],
        search=config["search"],
    script:
        "../scripts/screen.py"


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
    conda:
        "../envs/litreview.yaml"
    params:
        screening=config["screening"],
        prisma=config["prisma"],
        title=config["review"]["title"],
        other_labels=config["prisma"]["other_labels"],
        versions_folder=config["versions"]["folder"],
    script:
        "../scripts/prisma.py"


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
    conda:
        "../envs/litreview.yaml"
    params:
        folder=lambda wildcards, output: str(Path(output[0]).parent),
    script:
        "../scripts/exports.py"


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
    conda:
        "../envs/litreview.yaml"
    params:
        versions=config["versions"],
    script:
        "../scripts/versions.py"
