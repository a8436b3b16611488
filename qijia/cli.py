"""The ``qijia`` console script.

``qijia screen`` and ``qijia gen-bundle`` run the integrity engine on files and need no database;
every other command is a Django management command (``qijia seed`` → ``manage.py seed``,
``qijia audit verify`` → ``manage.py audit verify``).
"""

from __future__ import annotations

import os
import sys

ENGINE_COMMANDS = {"screen", "gen-bundle"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ENGINE_COMMANDS:
        from qijia.screening import cli as engine_cli

        return engine_cli.main(args)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    elif not args or args[0] in ("-h", "--help"):
        args = ["help"]
    execute_from_command_line(["qijia", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
