"""``.. naas-commands::``: the reference of every ``naas`` command, drawn from the command table itself.

cliff's own ``autoprogram-cliff`` reads commands from entry points; naas
registers its commands in code (:data:`naas.cli.main.COMMANDS`), so this
directive walks that table and prints each command's ``--help``.
"""

from __future__ import annotations

import io
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx

# argparse wraps help at the terminal width; fix it so every build prints the same.
_HELP_WIDTH = "100"


class NaasCommands(Directive):
    has_content = False

    def run(self) -> list[nodes.Node]:
        import os

        from naas.cli.main import COMMANDS, NaasApp

        os.environ["COLUMNS"] = _HELP_WIDTH
        app = NaasApp(stdout=io.StringIO(), stderr=io.StringIO())
        sections: list[nodes.Node] = []
        for name, command_class in COMMANDS.items():
            title = f"naas {name}"
            parser = command_class(app, None, cmd_name=name).get_parser(title)
            section = nodes.section("", nodes.title(text=title), ids=[nodes.make_id(title)], names=[title])
            help_text = parser.format_help()
            usage = nodes.literal_block(help_text, help_text)
            usage["language"] = "text"
            section += usage
            sections.append(section)
        return sections


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("naas-commands", NaasCommands)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
