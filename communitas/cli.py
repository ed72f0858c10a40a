"""The ``communitas`` console script: Django's management commands with hyphenated names.

``communitas demo`` == ``manage.py demo``; ``communitas verify-audit`` == ``manage.py verify_audit``.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitas.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["communitas", *argv[1:]])


if __name__ == "__main__":
    main()
