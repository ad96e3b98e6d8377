"""The documentation's "Try it on one machine" lines for the ovn backend run as written.

tests/test_docs.py leaves them out (they need OVN's programs); here they run
where OVN is installed, in one shell, in a temporary HOME and TMPDIR, and the
block that stops the daemons runs however the others ended.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from naas_plugins.ovn.testing import require_ovn
from tests.test_docs import ROOT, extract_blocks, shell_commands


def test_the_try_it_lines_run_and_leave_a_topology_in_the_northbound(tmp_path: Path) -> None:
    require_ovn()
    blocks = {block.text.split("\n", 1)[0]: block for block in extract_blocks(ROOT / "doc" / "source" / "ovn.rst")}
    (start,) = [block for first, block in blocks.items() if first.startswith("$ export D=")]
    (stop,) = [block for first, block in blocks.items() if first.startswith("$ kill ")]
    script = "set -e\n"
    script += "trap '" + " ; ".join(command for command, _ in shell_commands(stop)).replace("'", "'\\''") + "' EXIT\n"
    script += "\n".join(command for command, _ in shell_commands(start)) + "\n"
    script += 'echo "D=$D"\n'
    home = tmp_path / "home"
    home.mkdir()
    environment = {
        **os.environ,
        "HOME": str(home),
        "TMPDIR": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }

    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=environment, timeout=300)

    assert done.returncode == 0, done.stderr
    output = done.stdout
    assert "switch " in output and "(naas-" in output and "router " in output, output
    assert "gateway chassis: [gw1]" in output, output
    directory = output.strip().splitlines()[-1].removeprefix("D=")
    assert directory.startswith(str(tmp_path)) and not os.path.exists(directory), "the stop line left the directory"
