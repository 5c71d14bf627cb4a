"""``python -m striate ...``: the command-line interface."""

from striate.cli import main

raise SystemExit(main())
