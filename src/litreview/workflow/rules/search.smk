# Search: replay a snapshot (offline) or search PubMed and write a new one (live), then parse
# the snapshot's PubMed XML into the record tables.


checkpoint snapshot:
    input:
        manifest=snapshot_manifest(),
        other_sources=other_sources_sheet() if is_live() else [],
    output:
        pointer="results/search/snapshot.json",
    log:
        "logs/search/snapshot.log",
    params:
        search=config["search"],
        entrez=config["entrez"],
        live_run=live_run_stamp(),
    run:
        run_step(
            log[0],
            stages.choose_snapshot,
            params.search,
            params.entrez,
            output.pointer,
            other_sources=(input.other_sources or [None])[0],
        )


rule records:
    input:
        # ancient: a live run that found nothing new rewrites the pointer to the same snapshot,
        # and nothing downstream reruns; a new snapshot's manifest reruns everything
        pointer=ancient(rules.snapshot.output.pointer),
        manifest=replayed_manifest,
    output:
        records=report(
            "results/records.tsv",
            caption="../report/records.rst",
            category="1. Search",
        ),
        resolved="results/search/resolved.tsv",
    log:
        "logs/search/records.log",
    run:
        run_step(
            log[0],
            stages.snapshot_records,
            input.pointer,
            output.records,
            output.resolved,
        )


rule changes:
    input:
        pointer=ancient(rules.snapshot.output.pointer),
        screened="results/screening/screened.tsv",
        orphans="results/screening/orphans.tsv",
        deduplicated="results/deduplicated.tsv",
        clusters="results/dedup/clusters.tsv",
        retraction_watch=config["retraction_watch"]["file"] or [],
    output:
        csv="results/changes/changes.csv",
        watch="results/changes/retractions.tsv",
        md=report(
            "results/changes/changes.md",
            caption="../report/changes.rst",
            category="1. Search",
        ),
    log:
        "logs/search/changes.log",
    params:
        search=config["search"],
        changes=config["changes"],
        retraction_watch=config["retraction_watch"],
    run:
        run_step(
            log[0],
            stages.change_outputs,
            input.pointer,
            input.screened,
            params.search,
            params.changes,
            output.csv,
            output.md,
            deduplicated_path=input.deduplicated,
            retraction_watch=params.retraction_watch,
            watch_path=output.watch,
            clusters_path=input.clusters,
            orphans_path=input.orphans,
        )


rule search_report:
    input:
        pointer=ancient(rules.snapshot.output.pointer),
        identified="results/identified.tsv",
        clusters="results/dedup/clusters.tsv",
        changes=rules.changes.output.csv,
    output:
        md=report(
            "results/search/search_report.md",
            caption="../report/search_report.rst",
            category="1. Search",
        ),
    log:
        "logs/search/search_report.log",
    params:
        screening=config["screening"],
    run:
        run_step(
            log[0],
            stages.search_report_output,
            input.pointer,
            input.identified,
            input.clusters,
            input.changes,
            params.screening,
            output.md,
        )
