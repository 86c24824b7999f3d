# Identify: the search's records plus records found by other methods, then deduplication.


rule identify:
    input:
        records=rules.records.output.records,
        resolved=rules.records.output.resolved,
        other_sources=other_sources_sheet(),
        files=other_sources_files(),
    output:
        identified=report(
            "results/identified.tsv",
            caption="../report/identified.rst",
            category="2. Identification",
        ),
        unresolved="results/identify/unresolved.tsv",
        files="results/identify/files.tsv",
    log:
        "logs/identify/identify.log",
    params:
        csv_mappings=config["identify"]["csv_mappings"],
    run:
        run_step(
            log[0],
            stages.identify_records,
            input.records,
            input.resolved,
            (input.other_sources or [None])[0],
            output.identified,
            output.unresolved,
            csv_mappings=params.csv_mappings,
            files_path=output.files,
        )


rule dedup:
    input:
        identified=rules.identify.output.identified,
        files=rules.identify.output.files,
        pointer=ancient(rules.snapshot.output.pointer),
    output:
        deduplicated=report(
            "results/deduplicated.tsv",
            caption="../report/deduplicated.rst",
            category="2. Identification",
        ),
        duplicates=report(
            "results/dedup/duplicates.tsv",
            caption="../report/duplicates.rst",
            category="2. Identification",
        ),
        clusters="results/dedup/clusters.tsv",
        summary="results/dedup/summary.md",
    log:
        "logs/identify/dedup.log",
    params:
        settings=config["dedup"],
        origin=lambda wildcards, input: stages.origin_of(input.pointer),
    run:
        run_step(
            log[0],
            stages.deduplicate_records,
            input.identified,
            params.settings,
            output.deduplicated,
            output.duplicates,
            output.clusters,
            output.summary,
            origin=params.origin,
            files_path=input.files,
        )
