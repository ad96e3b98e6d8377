"""The distribution: its name, its floors, CI's pins, what the sdist carries, and README's commands.

Packaging breaks where nothing imports it, so these tests read the project's own
files (setup.cfg, the constraints, README.rst) and build the sdist.
"""

from __future__ import annotations

import configparser
import importlib.util
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "naas-example-driver"


def read_setup_cfg(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(path)
    return parser


def requirements(value: str) -> list[Requirement]:
    return [Requirement(line) for line in value.splitlines() if line.strip()]


def every_requirement(setup_cfg: configparser.ConfigParser) -> list[Requirement]:
    found = requirements(setup_cfg["options"]["install_requires"])
    for extra in setup_cfg["options.extras_require"].values():
        found += requirements(extra)
    return found


def load_minimum_constraints() -> ModuleType:
    spec = importlib.util.spec_from_file_location("minimum_constraints", ROOT / ".ci" / "minimum_constraints.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SETUP_CFG = read_setup_cfg(ROOT / "setup.cfg")
minimum_constraints = load_minimum_constraints()


def test_the_distribution_is_naas_networking_and_the_example_requires_it() -> None:
    example = read_setup_cfg(EXAMPLE / "setup.cfg")

    assert SETUP_CFG["metadata"]["name"] == "naas-networking"
    assert [requirement.name for requirement in every_requirement(example)] == ["naas-networking", "naas-networking"]
    assert "naas" not in {canonicalize_name(r.name) for r in every_requirement(SETUP_CFG) + every_requirement(example)}


def test_the_linters_are_in_dev_and_test_holds_what_a_driver_author_runs() -> None:
    extras = SETUP_CFG["options.extras_require"]

    # The clients drive naas-server in tests/server as users drive Neutron.
    assert {r.name for r in requirements(extras["test"])} == {
        "pytest",
        "testtools",
        "fixtures",
        "openstacksdk",
        "python-openstackclient",
    }
    assert {"mypy", "ruff", "types-netaddr"} <= {r.name for r in requirements(extras["dev"])}


def test_the_python_classifiers_name_the_version_ci_runs_and_python_requires_allows() -> None:
    classifiers = SETUP_CFG["metadata"]["classifiers"].split("\n")
    versions = {line.rsplit("::", 1)[1].strip() for line in classifiers if re.fullmatch(r".*Python :: 3\.\d+", line)}

    assert versions == {"3.11"}
    assert SETUP_CFG["options"]["python_requires"] == ">=3.11"


def test_every_requirement_declares_a_floor_and_the_minimum_constraints_pin_it() -> None:
    extras = list(SETUP_CFG["options.extras_require"])
    lines = minimum_constraints.requirement_lines(ROOT / "setup.cfg", extras)

    pins = minimum_constraints.minimum_pins(lines)

    for requirement in every_requirement(SETUP_CFG):
        (floor,) = (specifier.version for specifier in requirement.specifier if specifier.operator == ">=")
        assert pins[canonicalize_name(requirement.name)] == f"{requirement.name}=={floor}"


def test_a_requirement_without_a_floor_is_refused_by_name() -> None:
    with pytest.raises(SystemExit, match="'cliff<5' declares no minimum"):
        minimum_constraints.minimum_pins(["stevedore>=5.6", "cliff<5"])


def test_the_minimum_pins_replace_ci_pins_and_keep_the_others() -> None:
    pins = minimum_constraints.minimum_pins(["SQLAlchemy>=2.0", "psycopg2-binary>=2.9.5"])

    combined = minimum_constraints.overlay(["# pins", "greenlet==3.1.0", "sqlalchemy==2.1.9"], pins)

    assert combined == ["# pins", "greenlet==3.1.0", "SQLAlchemy==2.0", "psycopg2-binary==2.9.5"]


def test_ci_pins_every_requirement_at_a_version_setup_cfg_allows() -> None:
    """.ci/constraints.txt is kept current: refresh it with ``bash .ci/refresh-constraints``."""
    pinned = {}
    for line in (ROOT / ".ci" / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[canonicalize_name(name)] = version.strip()

    for requirement in every_requirement(SETUP_CFG):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not pinned; run: bash .ci/refresh-constraints"
        assert requirement.specifier.contains(pinned[name]), f"{requirement} excludes the pinned {pinned[name]}"
    assert {"naas", "naas-networking", "naas-example-driver"}.isdisjoint(pinned)


def readme_command(pattern: str) -> str:
    (line,) = (line.strip() for line in (ROOT / "README.rst").read_text().splitlines() if re.search(pattern, line))
    return line


@pytest.mark.parametrize(
    "pattern", [r"^\s+pip install .*&& python -m pytest", r"^\s+pip install .*&& python -m sphinx"]
)
def test_the_readme_and_the_install_guide_give_the_same_command(pattern: str) -> None:
    command = readme_command(pattern)

    assert f"$ {command}\n" in (ROOT / "doc" / "source" / "install.rst").read_text()


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


def test_the_sdist_carries_every_tracked_file(tmp_path: Path) -> None:
    pytest.importorskip("setuptools", reason="building the sdist needs setuptools (naas-networking[dev])")
    files = tracked_files()
    source = tmp_path / "source"
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    build = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"

    built = subprocess.run(
        [sys.executable, "-c", build, str(tmp_path)], cwd=source, capture_output=True, text=True, check=True
    )

    with tarfile.open(tmp_path / built.stdout.strip().splitlines()[-1]) as sdist:
        members = {member.name.split("/", 1)[1] for member in sdist.getmembers() if member.isfile()}
    assert set(files) - {".gitignore"} <= members
    assert {"LICENSE", "PKG-INFO"} <= members
