"""Test tools, such as the local NCBI E-utilities server (:mod:`litreview.testing.eutils`).

Only tests, benchmarks and the build of the embedded snapshot import this package; the product
never does.
"""
