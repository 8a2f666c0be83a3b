"""Check the sdist and the wheel that ``python -m build`` left in a folder, before a release.

Usage: ``python tests/release/check_dist.py dist`` (``nox -s build`` runs it). Not a pytest
test. Every problem is printed on its own line and the exit status is 1; otherwise one
summary line is printed.
"""

from __future__ import annotations

import configparser
import re
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser under its PyPI name
    try:
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        sys.exit("check_dist.py needs Python 3.11 or newer, or tomli installed")

REPO = Path(__file__).resolve().parents[2]
NAME = "llama-models-client"
RUNTIME_DEPENDENCIES = {"aiohttp", "anyio", "attrs", "cattrs"}
PROJECT_URLS = ("Homepage", "Documentation", "Changelog", "Source", "Issues")
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
WHEEL_FILES = (
    "llama_models/py.typed",
    "llama_models/__init__.py",
    "llama_models/testing/__init__.py",
)
WHEEL_FORBIDDEN_DIRS = ("tests/", "bench/", "docs/")
SDIST_FILES = ("pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "llama_models/py.typed")
SDIST_DIRS = ("tests/", "docs/")
ENTRY_POINT = ("llama-models", "llama_models._cli:main")


def project_table() -> dict[str, Any]:
    with (REPO / "pyproject.toml").open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    name = match.group(0) if match else requirement
    return re.sub(r"[-_.]+", "-", name).lower()


def check_metadata(metadata: Message, version: str, urls: dict[str, str], fail: list[str]) -> None:
    def expect(field: str, wanted: str) -> None:
        value = metadata.get(field)
        if value != wanted:
            fail.append(f"wheel METADATA {field} is {value!r}, expected {wanted!r}")

    expect("Name", NAME)
    expect("Version", version)
    expect("Requires-Python", ">=3.10")
    expect("License-Expression", "MIT")
    expect("License-File", "LICENSE")
    expect("Description-Content-Type", "text/markdown")

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    description = metadata.get_payload()
    if description != readme:
        fail.append("wheel METADATA description is not README.md's text")

    classifiers = metadata.get_all("Classifier") or []
    wanted = ["Typing :: Typed", *(f"Programming Language :: Python :: {v}" for v in PYTHONS)]
    fail.extend(
        f"wheel METADATA lacks the classifier {c!r}" for c in wanted if c not in classifiers
    )
    if not any(c.startswith("Development Status :: ") for c in classifiers):
        fail.append("wheel METADATA lacks a 'Development Status :: ...' classifier")

    found_urls = {}
    for entry in metadata.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        found_urls[label.strip()] = url.strip()
    for label in PROJECT_URLS:
        if label not in found_urls:
            fail.append(f"wheel METADATA lacks the Project-URL {label!r}")
        elif found_urls[label] != urls.get(label):
            fail.append(
                f"wheel METADATA Project-URL {label} is {found_urls[label]!r}, not pyproject's"
            )

    unconditional = {
        requirement_name(r) for r in metadata.get_all("Requires-Dist") or [] if ";" not in r
    }
    if unconditional != RUNTIME_DEPENDENCIES:
        fail.append(
            f"wheel Requires-Dist (unconditional) is {sorted(unconditional)}, "
            f"expected {sorted(RUNTIME_DEPENDENCIES)}"
        )


def check_wheel(wheel: Path, version: str, urls: dict[str, str], fail: list[str]) -> int:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = f"{NAME.replace('-', '_')}-{version}.dist-info"
        for required in (*WHEEL_FILES, f"{dist_info}/licenses/LICENSE"):
            if required not in names:
                fail.append(f"wheel lacks {required}")
        for name in names:
            if name.startswith(WHEEL_FORBIDDEN_DIRS):
                fail.append(
                    f"wheel contains {name} (tests, bench and docs belong in the sdist only)"
                )
            elif "__pycache__/" in name or name.endswith((".pyc", ".pyo")):
                fail.append(f"wheel contains compiled bytecode {name}")

        if f"{dist_info}/METADATA" not in names:
            fail.append(f"wheel lacks {dist_info}/METADATA")
        else:
            text = archive.read(f"{dist_info}/METADATA").decode("utf-8")
            check_metadata(Parser().parsestr(text), version, urls, fail)

        if f"{dist_info}/entry_points.txt" not in names:
            fail.append(f"wheel lacks {dist_info}/entry_points.txt")
        else:
            entry_points = configparser.ConfigParser(delimiters=("=",), interpolation=None)
            entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode("utf-8"))
            command, target = ENTRY_POINT
            found = entry_points.get("console_scripts", command, fallback=None)
            if found != target:
                fail.append(
                    f"wheel entry_points.txt console_scripts {command} is {found!r}, expected {target!r}"
                )
    return len(names)


def check_sdist(sdist: Path, version: str, fail: list[str]) -> int:
    prefix = f"{NAME.replace('-', '_')}-{version}/"
    with tarfile.open(sdist) as archive:
        members = [m.name for m in archive.getmembers() if m.isfile()]
    outside = [m for m in members if not m.startswith(prefix)]
    if outside:
        fail.append(f"sdist has {len(outside)} file(s) outside {prefix}, such as {outside[0]}")
    names = {m.removeprefix(prefix) for m in members}
    fail.extend(f"sdist lacks {required}" for required in SDIST_FILES if required not in names)
    for folder in SDIST_DIRS:
        if not any(name.startswith(folder) for name in names):
            fail.append(f"sdist lacks the {folder} folder")
    return len(members)


def report(fail: list[str], folder: Path) -> int:
    for problem in fail:
        print(f"check_dist: {problem}", file=sys.stderr)
    print(f"check_dist: {len(fail)} problem(s) in {folder}/", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/release/check_dist.py DIST_FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    project = project_table()
    version = str(project["version"])
    urls = {str(k): str(v) for k, v in project.get("urls", {}).items()}
    stem = NAME.replace("-", "_")

    fail: list[str] = []
    sdists = sorted(folder.glob("*.tar.gz"))
    wheels = sorted(folder.glob("*.whl"))
    for kind, found in (("sdist (*.tar.gz)", sdists), ("wheel (*.whl)", wheels)):
        if len(found) != 1:
            listed = ", ".join(p.name for p in found) or "none"
            fail.append(f"{folder}/ must hold exactly one {kind}, found {len(found)}: {listed}")
    if fail:
        return report(fail, folder)
    [sdist], [wheel] = sdists, wheels
    if sdist.name != f"{stem}-{version}.tar.gz":
        fail.append(f"sdist {sdist.name} is not {stem}-{version}.tar.gz (pyproject's version)")
    if not wheel.name.startswith(f"{stem}-{version}-"):
        fail.append(f"wheel {wheel.name} is not version {version} (pyproject's version)")
    if fail:
        return report(fail, folder)

    wheel_files = check_wheel(wheel, version, urls, fail)
    sdist_files = check_sdist(sdist, version, fail)
    if fail:
        return report(fail, folder)
    print(
        f"check_dist OK: {NAME} {version}: {wheel.name} ({wheel_files} files), "
        f"{sdist.name} ({sdist_files} files)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
