"""Development sessions: ``nox -s tests``, ``lint``, ``typing``, ``bench``; ``build`` and
``smoke`` for a release.

Every session installs what it needs from ``pyproject.toml`` (the project itself
and a PEP 735 dependency group), so a fresh machine needs only Python and nox.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "lint", "typing"]
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite under coverage and print line coverage of llama_models."""
    session.install("--upgrade", "pip")
    session.install(".", *_group("test"))
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")


@nox.session(name="tests-all", python=["3.10", "3.11", "3.12", "3.13"])
def tests_all(session: nox.Session) -> None:
    """Run the test suite on every supported Python (each must be installed)."""
    tests(session)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML documentation into docs/_build/html; every warning is an error."""
    session.install("--upgrade", "pip")
    session.install(".[otel,redis]", *_group("docs"))  # the reference documents both modules
    session.run(
        "sphinx-build", "-W", "--keep-going", "-E", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session
def typing(session: nox.Session) -> None:
    """Type-check the package, the tests and the benchmark with mypy --strict.

    The tests include ``tests/typing/api.py``, which checks the public API as users write
    it. Its negative cases carry ``# type: ignore[<code>]`` comments, and ``strict`` turns
    on ``warn_unused_ignores``, so one whose error disappears fails this session. Then every
    Python example of the README and docs/ is type-checked the same way.
    """
    session.install("--upgrade", "pip")
    session.install(".", *_group("typing"))
    session.run("mypy")
    session.run("python", "tests/typing/check_examples.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Compare the SDK with raw aiohttp (and llama-api-client) on a local fake server.

    The project is installed with its ``fast`` extra (orjson), so the SDK runs with both
    JSON codecs: the standard library's and, in the ``[fast]`` rows, orjson's.
    """
    session.install("--upgrade", "pip")
    session.install(".[fast]", *_group("bench"))
    session.run("python", "bench/run.py", *session.posargs)


@nox.session
def build(session: nox.Session) -> None:
    """Build the sdist and, from it, the wheel into dist/, then check both.

    ``python -m build`` builds the wheel from the unpacked sdist, so a file missing from the
    sdist breaks the build; ``twine check --strict`` renders the long description as PyPI
    will; ``tests/release/check_dist.py`` checks the metadata and the contents of both.
    """
    session.install(*_group("release"))
    shutil.rmtree("dist", ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", "dist")
    built = [*Path("dist").glob("*.tar.gz"), *Path("dist").glob("*.whl")]
    session.run("twine", "check", "--strict", *map(str, built))
    session.run("python", "tests/release/check_dist.py", "dist")


@nox.session(requires=["build"], reuse_venv=False)
def smoke(session: nox.Session) -> None:
    """Install the built wheel into a fresh virtual environment and use it as a new user would.

    Runs ``build`` first. Only the wheel from dist/ is installed (its dependencies come from
    the index), and the commands run in an empty temporary directory outside the checkout,
    so the source tree's ``llama_models`` cannot be imported by accident.
    """
    wheels = sorted(Path("dist").glob("*.whl"))
    if len(wheels) != 1:
        found = ", ".join(path.name for path in wheels) or "none"
        session.error(f"expected exactly one wheel in dist/, found {len(wheels)}: {found}")
    session.install(str(wheels[0].resolve()))
    script = Path("tests/release/smoke.py").resolve()
    with tempfile.TemporaryDirectory(prefix="llama-models-smoke-") as folder, session.chdir(folder):
        session.run("llama-models", "--demo", "models", "list")
        session.run("python", "-W", "error", str(script))
