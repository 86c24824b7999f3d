"""litreview: rerun, audit and keep alive a systematic literature review.

The package holds the logic of every stage as functions over plain data (DataFrames,
dataclasses). It never imports Snakemake: the workflow's scripts are thin adapters over it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("litreview")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
