"""Benchmarks: chunkagg against its peers and the JSON parser's own speed, in one run.

Run ``python -m benchmarks`` from the repository root (``pip install -e '.[bench]'`` first);
``python -m benchmarks --help`` lists the options. See ``__main__`` for what is measured.
"""
