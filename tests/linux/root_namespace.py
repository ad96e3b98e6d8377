"""The host's root network namespace, as text to compare: links, addresses, routes, rules, nft ruleset."""

from __future__ import annotations

import re
import shutil
import subprocess


def _run(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def snapshot() -> dict[str, str]:
    """What the linux backend must never change in the root namespace."""
    links = _run("ip", "-o", "link", "show")
    # Counters and link state flags that traffic or time change, not configuration.
    links = re.sub(r"\s+qlen \d+", "", links)
    taken = {
        "links": links,
        "addresses": re.sub(r"valid_lft \S+ preferred_lft \S+", "", _run("ip", "-o", "address", "show")),
        "routes4": _run("ip", "-4", "route", "show", "table", "all"),
        "routes6": re.sub(r"expires \S+", "", _run("ip", "-6", "route", "show", "table", "all")),
        "rules": _run("ip", "rule", "show"),
    }
    if shutil.which("nft"):
        taken["nft"] = _run("nft", "list", "ruleset")
    return taken
