# Identify: the search's records plus records found by other methods, then deduplication.


rule identify:
    input:
        records=rules.records.output.records,
        resolved=rules.records.output.resolved,
        sheets=other_sources_inputs(),
    output:
        identified=report(
            "results/identified.tsv",
            caption="../report/identified.rst",
            category="2. Identification",
        ),
        unresolved="results/identify/unresolved.tsv",
    log:
        "logs/identify/identify.log",
    params:
        other_sources=config["identify"]["other_sources"],
        csv_mappings=config["identify"]["csv_mappings"],
    script:
        "../scripts/identify.py"


rule dedup:
    input:
        identified=rules.identify.output.identified,
        pointer=rules.snapshot.output.pointer,
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
    script:
        "../scripts/dedup.py"
