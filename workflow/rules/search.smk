# Search: replay a snapshot (offline) or search PubMed and write a new one (live), then parse
# the snapshot's PubMed XML into the record table.


rule snapshot:
    input:
        manifest=snapshot_manifest(),
    output:
        pointer="results/search/snapshot.json",
    params:
        search=config["search"],
        entrez=config["entrez"],
        live_run=live_run_stamp(),
    log:
        "logs/search/snapshot.log",
    script:
        "../scripts/snapshot.py"


rule records:
    input:
        pointer=rules.snapshot.output.pointer,
    output:
        records=report(
            "results/records.tsv",
            caption="../report/records.rst",
            category="1. Search",
        ),
    log:
        "logs/search/records.log",
    script:
        "../scripts/records.py"
