"""Every code block of README.rst and the documentation runs, so none can drift.

Each document runs in a fresh HOME (so the ``sql`` plugins' SQLite file and any
``naas.conf`` are its own), its blocks in document order:

* ``.. code-block:: python`` blocks run in one Python process per document,
  sharing their names like the paragraphs of one session;
* shell blocks (``.. code-block:: console`` lines starting with ``$``, and
  README's ``::`` blocks) run in ``bash``; every line the document shows under
  a command must be among the lines it prints (resource ids aside), and a
  command may fail only where the document shows what it prints then;
* ``ini`` blocks are configuration fragments and are not run.

A block that cannot run says why in ``NOT_RUN``, one that needs a state of its
own in ``FRESH_HOME``; an entry that matches no block fails, so the lists
cannot outlive what they excuse.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.rst", *sorted((ROOT / "doc" / "source").glob("*.rst"))]

# (document, text the block starts with) -> why it does not run here.
NOT_RUN: dict[tuple[str, str], str] = {
    ("README.rst", 'pip install -e ".[test'): "the whole test suite; .ci/run runs this line as written",
    ("README.rst", "naas bootstrap\nnaas network auto allocated topology create --project P"): (
        "a synopsis of the commands, with placeholders and alternatives"
    ),
    ("README.rst", 'pip install -e ".[doc]"'): "installs and builds the docs; .ci/run runs this line as written",
    ("README.rst", "OS_DEFAULT__AUTH_STRATEGY=noauth naas-server"): (
        "starts a server that runs until stopped; tests/server/test_readme.py runs these lines on a free port"
    ),
    ("api-server.rst", "naas-server --config-file"): "starts a server that runs until stopped, on /etc/naas/naas.conf",
    ("api-server.rst", '127.0.0.1 "GET'): "a line of the access log, not a command",
    ("install.rst", "$ python3 -m venv"): "creates a virtual environment and installs naas from a checkout",
    ("install.rst", '$ pip install -e ".[test'): "the whole test suite; .ci/run runs README's same line",
    ("install.rst", '$ pip install -e ".[doc]"'): "installs and builds the docs; .ci/run runs README's same line",
    ("cli.rst", "$ naas db current"): "a synopsis: REVISION is a placeholder",
    ("cli.rst", "$ naas network list\n/etc/naas/naas.conf:"): (
        "shows the warning for a mistyped option in /etc/naas/naas.conf, which a test may not write"
    ),
    ("plugins.rst", "$ naas network list\nCannot load plugin 'nosuch'"): (
        "the error of a configuration naming core_plugin = nosuch, which the block does not write"
    ),
    ("driver-guide.rst", "examples/naas-example-driver/\n"): "a directory tree, not a command",
    ("ovn.rst", "$ pip install 'naas-networking[ovn]'"): "installs naas's ovn extra",
    ("ovn.rst", "$ export D=$(mktemp -d)"): "starts OVN's daemons; tests/ovn/test_docs.py runs it with OVN",
    ("ovn.rst", "$ kill $(cat $D/northd.pid"): "stops what the block before started; tests/ovn/test_docs.py runs it",
    ("driver-guide.rst", "core = CorePluginClass.from_config("): "what the loader calls, with placeholder names",
    ("driver-guide.rst", "def create_network(self, context, network):"): "the outline of a method, with '...' gaps",
    ("driver-guide.rst", "$ pip install -e 'examples/naas-example-driver[test]'"): (
        "installs the example and runs its suites; tests/test_example_driver.py runs them"
    ),
}

# (document, text the block starts with) -> why it runs in a HOME of its own rather than after the blocks before it.
FRESH_HOME: dict[tuple[str, str], str] = {
    ("cli.rst", "$ naas subnet pool create --pool-prefix 10.0.0.0/33"): (
        "shows the error of get-me-a-network before 'naas bootstrap', which the blocks before it ran"
    ),
}

# Shown output names resources by random ids; everything else must be as printed.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# The first README command also creates a venv and installs naas: the tests already run in one.
INSTALL_STEP = re.compile(r"^(python3? -m venv |\. \S+/bin/activate$|pip install )")


@dataclasses.dataclass(frozen=True)
class Block:
    document: str
    line: int
    language: str  # python, console, ini ...; "literal" for a "::" block
    text: str

    @property
    def location(self) -> str:
        return f"{self.document}:{self.line}"

    def matches(self, document: str, start: str) -> bool:
        return document == self.document and self.text.startswith(start)

    def not_run_reason(self) -> str | None:
        return next((reason for key, reason in NOT_RUN.items() if self.matches(*key)), None)

    def needs_fresh_home(self) -> bool:
        return any(self.matches(*key) for key in FRESH_HOME)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def extract_blocks(path: Path) -> list[Block]:
    """The code-block directives and ``::`` literal blocks of an rst file, dedented, with their line."""
    lines = path.read_text().splitlines()
    blocks = []
    for number, line in enumerate(lines):
        stripped = line.strip()
        directive = re.fullmatch(r"\.\. code-block:: *(\S+)", stripped)
        if directive:
            language = directive.group(1)
        elif stripped.endswith("::") and not stripped.startswith(".. "):
            language = "literal"
        else:
            continue
        body_start = number + 1
        # Blank lines, and a directive's options (":caption: ..."), come before the body.
        while body_start < len(lines) and (
            not lines[body_start].strip() or (language != "literal" and lines[body_start].strip().startswith(":"))
        ):
            body_start += 1
        body = []
        for candidate in lines[body_start:]:
            if candidate.strip() and _indent(candidate) <= _indent(line):
                break
            body.append(candidate)
        text = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        if text.strip():
            blocks.append(Block(path.name, body_start + 1, language, text))
    return blocks


def shell_commands(block: Block) -> list[tuple[str, list[str]]]:
    """(command, the output lines the document shows for it) for each command of a shell block."""
    if block.language == "literal":
        return [(line.strip(), []) for line in block.text.splitlines() if line.strip()]
    commands: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands and line.strip():
            commands[-1][1].append(line)
    return commands


def without_install_steps(command: str) -> str:
    return " && ".join(step for step in command.split(" && ") if not INSTALL_STEP.match(step.strip()))


# A persistent interpreter: each block is exec'd in one namespace, so a block may use its predecessors' names.
ANSWER_MARK = "naas-docs-answer: "
WORKER = f"""
import json, sys, traceback
MARK = {ANSWER_MARK!r}
namespace = {{"__name__": "__main__"}}
for request in sys.stdin:
    block = json.loads(request)
    try:
        exec(compile(block["source"], block["location"], "exec"), namespace)
    except BaseException:
        answer = {{"error": traceback.format_exc()}}
    else:
        answer = {{"error": None}}
    sys.stdout.write("\\n" + MARK + json.dumps(answer) + "\\n")
    sys.stdout.flush()
"""


class DocumentRunner:
    """Runs one document's blocks in a HOME of its own."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "OS_", "NAAS_"))}
        self.env["HOME"] = str(home)
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.python: subprocess.Popen[str] | None = None

    def run_python(self, block: Block) -> None:
        if self.python is None:
            self.python = subprocess.Popen(
                [sys.executable, "-c", WORKER],
                cwd=self.home,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        assert self.python.stdin is not None and self.python.stdout is not None
        self.python.stdin.write(json.dumps({"source": block.text, "location": block.location}) + "\n")
        self.python.stdin.flush()
        answer = None
        for line in self.python.stdout:
            if line.startswith(ANSWER_MARK):
                answer = json.loads(line.removeprefix(ANSWER_MARK))
                break
        assert answer is not None, f"{block.location}: the interpreter died"
        assert answer["error"] is None, f"{block.location} fails as written:\n{answer['error']}"

    def run_shell(self, block: Block) -> None:
        for command, shown_output in shell_commands(block):
            command = without_install_steps(command) if block.document == "README.rst" else command
            if re.search(r"\|\s*dot\b", command) and shutil.which("dot") is None:
                continue  # Graphviz is optional; tests/cli covers the --dot output itself
            result = subprocess.run(
                ["bash", "-o", "pipefail", "-c", command],
                cwd=self.home,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            printed = {UUID.sub("<id>", line).strip() for line in (result.stdout + result.stderr).splitlines()}
            not_printed = [line for line in shown_output if UUID.sub("<id>", line).strip() not in printed]
            assert result.returncode == 0 or shown_output, (
                f"{block.location}: {command!r} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
            assert not not_printed, (
                f"{block.location}: {command!r} does not print what the document shows: {not_printed}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )

    def close(self) -> None:
        if self.python is not None:
            assert self.python.stdin is not None
            self.python.stdin.close()
            self.python.wait(timeout=60)


def run_document(path: Path, home: Path) -> list[Block]:
    runner = DocumentRunner(home)
    ran = []
    try:
        for block in extract_blocks(path):
            if block.not_run_reason() is not None or block.language == "ini":
                continue
            if block.language == "python":
                runner.run_python(block)
            elif block.language in ("console", "literal", "shell", "bash") and block.needs_fresh_home():
                fresh = home / f"fresh-home-{block.line}"
                fresh.mkdir()
                DocumentRunner(fresh).run_shell(block)
            elif block.language in ("console", "literal", "shell", "bash"):
                runner.run_shell(block)
            else:
                continue
            ran.append(block)
    finally:
        runner.close()
    return ran


def test_every_exemption_names_a_block() -> None:
    blocks = [block for path in DOCUMENTS for block in extract_blocks(path)]
    for (document, start), reason in [*NOT_RUN.items(), *FRESH_HOME.items()]:
        matching = [block for block in blocks if block.matches(document, start)]
        assert len(matching) == 1, f"entry {document!r} {start!r} ({reason}) matches {len(matching)} blocks"


def test_the_readme_library_snippet_is_found_and_run() -> None:
    languages = [block.language for block in extract_blocks(ROOT / "README.rst")]

    assert "python" in languages
    assert languages.count("literal") >= 4


@pytest.mark.parametrize("path", DOCUMENTS, ids=[path.name for path in DOCUMENTS])
def test_the_code_blocks_run_as_written(path: Path, tmp_path: Path) -> None:
    ran = run_document(path, tmp_path)

    if path.name in ("README.rst", "library.rst", "cli.rst"):
        assert ran, f"{path.name}: no block ran"


def public_names() -> list[tuple[str, str]]:
    """(module, name) for every name in the ``__all__`` of a public naas module (no ``_`` part; not the CLI)."""
    import importlib
    import pkgutil

    import naas

    names = [("naas", name) for name in naas.__all__]
    for module_info in pkgutil.walk_packages(naas.__path__, "naas."):
        parts = module_info.name.split(".")
        if any(part.startswith("_") for part in parts) or parts[1] == "cli":
            continue
        module = importlib.import_module(module_info.name)
        names.extend((module_info.name, name) for name in getattr(module, "__all__", ()))
    return names


def test_the_docs_build_nitpicky_and_document_every_public_name(tmp_path: Path) -> None:
    pytest.importorskip("sphinx", reason="building the docs needs naas-networking[doc]")
    from sphinx.util.inventory import InventoryFile

    # README's build line, minus its install step, into a temporary directory.
    (line,) = (line for line in (ROOT / "README.rst").read_text().splitlines() if "&& python -m sphinx" in line)
    arguments = line.split("&& python -m sphinx", 1)[1].split()
    assert arguments[:2] == ["-n", "-W"], f"README builds the docs without -n -W: {line.strip()}"
    arguments[-1] = str(tmp_path / "html")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr

    with (tmp_path / "html" / "objects.inv").open("rb") as inventory_file:
        inventory = InventoryFile.load(inventory_file, "", lambda base, uri: uri)
    documented = {name.rsplit(".", 1)[-1] for entries in inventory.values() for name in entries}
    missing = [f"{module}.{name}" for module, name in public_names() if name not in documented]
    assert not missing, f"public names the API reference leaves out: {missing}"
