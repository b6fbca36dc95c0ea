"""MkDocs hooks: put on the site the two files that live outside ``docs/``.

``CHANGELOG.md`` (at the repository root, where packagers look for it) becomes the
``changelog.md`` page, and the benchmark chart (``benchmarks/results/chart.svg``, rewritten by
``python -m benchmarks``) becomes ``assets/chart.svg``. Both are read at build time, never
copied into the repository, so the site cannot show a stale copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = {
    "changelog.md": ROOT / "CHANGELOG.md",
    "assets/chart.svg": ROOT / "benchmarks" / "results" / "chart.svg",
}


def on_files(files: Files, config: Any) -> Files:
    for uri, path in EXTERNAL.items():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
