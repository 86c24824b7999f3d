"""Many reviews through a real SLURM: a single-node cluster on localhost (bench/slurm_local.sh),
two reviews run with `litreview run-many -- --executor slurm` through Snakemake's SLURM
executor plugin, their outputs compared byte for byte with local single runs.

Runs only where Debian's slurm-wlm and munge are installed (sbatch, slurmctld, slurmd, munged),
as root (slurmd starts the jobs), with snakemake-executor-plugin-slurm importable; the test
installs nothing and stops the daemons it started. Elsewhere it is skipped, saying why."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reviews import REPO, run_workflow
from tests.test_many import _contents, _first_review, _run_many, _summary, _surgery_review

pytestmark = [pytest.mark.slurm, pytest.mark.e2e]

SCRIPT = REPO / "bench" / "slurm_local.sh"
MISSING = [name for name in ("sbatch", "slurmctld", "slurmd", "munged") if not shutil.which(name)]


def _why_not() -> str | None:
    if MISSING:
        return f"no local SLURM ({', '.join(MISSING)} not found: apt-get install slurm-wlm munge)"
    if os.geteuid() != 0:
        return "a local SLURM needs root (slurmd starts the jobs)"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    return None


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory):
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(
        [str(SCRIPT), "start", str(root)], capture_output=True, text=True, timeout=120
    )
    if started.returncode != 0:
        pytest.skip(f"the local SLURM did not start: {started.stderr[-500:]}")
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(root / "slurm.conf")
    try:
        yield root
    finally:
        subprocess.run([str(SCRIPT), "stop", str(root)], capture_output=True, timeout=60)
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous


def test_two_reviews_through_slurm_match_local_runs(slurm: Path, tmp_path: Path) -> None:
    alone, together = tmp_path / "alone", tmp_path / "slurm"
    _first_review(alone / "stem-cells")
    _surgery_review(alone / "surgery")
    shutil.copytree(alone, together)
    for review in ("stem-cells", "surgery"):
        run_workflow(alone / review)
    result = _run_many(
        together, "stem-cells", "surgery", "--",
        "--executor", "slurm", "--jobs", "4", "--latency-wait", "30",
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
        "--slurm-keep-successful-logs",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    logs = together / "results-many" / ".snakemake" / "slurm_logs" / "rule_review"
    jobs = sorted(logs.rglob("*.log"))
    assert len(jobs) == 2, jobs  # each review ran as a SLURM job
    assert all("Finished jobid: 0 (Rule: review)" in job.read_text() for job in jobs)
    for review in ("stem-cells", "surgery"):
        assert _contents(together / review / "results") == _contents(alone / review / "results")
    assert {row["status"] for row in _summary(together / "results-many").values()} == {"ok"}
