"""``python -m bots.cli``: the same as the ``hogfleet`` console script."""

from bots.cli import main

raise SystemExit(main())
