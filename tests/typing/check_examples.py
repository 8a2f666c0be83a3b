"""Type-check every Python example of the README and docs/ with mypy --strict.

Run by ``nox -s typing``. Each example is written to a module of its own in a temporary
folder, named after the document and its position (``docs_guides_chat_md_3.py``), and the
whole set is checked in one mypy run with the project's configuration. A notebook cell may
``await`` at the top level; everything else must pass exactly as the package does, so a
reader who copies an example into a strictly typed code base gets no errors.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from doc_examples import ROOT, examples  # needs tests/ on sys.path, as above


def main() -> int:
    blocks = examples("python")
    with tempfile.TemporaryDirectory(prefix="llama-models-examples-") as folder:
        for name, code in blocks:
            module = re.sub(r"\W", "_", name.replace("#", "_")).lower()
            Path(folder, f"{module}.py").write_text(code)
        command = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--disable-error-code",
            "top-level-await",
            "--cache-dir",
            str(Path(folder, ".mypy_cache")),
            folder,
        ]
        result = subprocess.run(command, check=False, cwd=folder)
    print(f"check_examples: {len(blocks)} examples type-checked", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
