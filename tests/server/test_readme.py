"""README's server lines, run as written (the port aside): naas-server on the embedded default, then ``openstack``."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

from tests.server.conftest import ServerProcess, client_environment, free_port, wait_until_serving
from tests.test_docs import ROOT, UUID, extract_blocks, without_install_steps

README_PORT = "9696"


def readme_lines() -> tuple[str, str, str]:
    """README's first command (minus its installs) and the two lines of its server section."""
    blocks = extract_blocks(ROOT / "README.rst")
    first = next(b for b in blocks if "naas bootstrap &&" in b.text).text.strip()
    (server_block,) = [b for b in blocks if b.text.startswith("OS_DEFAULT__AUTH_STRATEGY=noauth naas-server")]
    serve, client = server_block.text.strip().splitlines()
    return without_install_steps(first), serve, without_install_steps(client)


def test_the_readme_serves_the_network_its_first_command_made(tmp_path: Path) -> None:
    first, serve, client = readme_lines()
    assert f"127.0.0.1:{README_PORT}" in client
    env = client_environment(tmp_path)
    made = subprocess.run(["bash", "-c", first], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr
    network_id = re.search(rf"\| id +\| ({UUID.pattern}) \|", made.stdout)
    assert network_id is not None, made.stdout

    port = free_port()
    server_env = {**env, "OS_API__BIND_PORT": str(port), "OS_API__ACCESS_LOG": str(tmp_path / "access.log")}
    with open(tmp_path / "server.log", "wb") as log:
        # One simple command: bash execs it, so this pid is the server's.
        process = subprocess.Popen(
            ["bash", "-c", serve], env=server_env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", tmp_path, tmp_path / "none.conf", "", 1)
    try:
        wait_until_serving(server)
        shown = subprocess.run(
            ["bash", "-c", client.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        status = server.stop(signal.SIGTERM)

    assert shown.returncode == 0, shown.stderr
    assert network_id.group(1) in shown.stdout
    assert re.search(r"\| project_id +\| demo +\|", shown.stdout), shown.stdout
    assert status == 0
