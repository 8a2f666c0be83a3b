"""Development sessions: ``nox -s tests``, ``lint``, ``typing``, ``bench``.

Every session installs what it needs from ``pyproject.toml`` (the project itself
and a PEP 735 dependency group), so a fresh machine needs only Python and nox.
"""

from __future__ import annotations

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
def typing(session: nox.Session) -> None:
    """Type-check the package, the tests and the benchmark with mypy --strict.

    The tests include ``tests/typing/api.py``, which checks the public API as users write
    it. Its negative cases carry ``# type: ignore[<code>]`` comments, and ``strict`` turns
    on ``warn_unused_ignores``, so one whose error disappears fails this session.
    """
    session.install("--upgrade", "pip")
    session.install(".", *_group("typing"))
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Compare the SDK with raw aiohttp (and llama-api-client) on a local fake server."""
    session.install("--upgrade", "pip")
    session.install(".", *_group("bench"))
    session.run("python", "bench/run.py", *session.posargs)
