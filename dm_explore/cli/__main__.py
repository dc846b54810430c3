"""``python -m dm_explore.cli``: the ``dm-explore`` command."""

from .main import main

raise SystemExit(main())
