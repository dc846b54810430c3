"""The findings' thresholds as command-line options, shared by ``report``, ``summary``
and ``diff``."""

from __future__ import annotations

import argparse

from ..model.findings import FindingOptions
from .common import at_least

__all__ = ["add_finding_arguments", "finding_options"]


def add_finding_arguments(parser: argparse.ArgumentParser, *, n_plus_one: bool = False) -> None:
    """``--duplicates``, ``--n-plus-one-api``, ``--consecutive-http``, ``--slow-query-ms``
    (and ``--n-plus-one`` when the command has none of its own)."""
    defaults = FindingOptions()
    group = parser.add_argument_group("findings")
    if n_plus_one:
        group.add_argument(
            "--n-plus-one", type=at_least(1), default=defaults.n_plus_one, metavar="N",
            help="one statement shape from one site N times in one request, with differing "
            f"parameters, is an N+1 (default {defaults.n_plus_one})",
        )  # fmt: skip
    group.add_argument(
        "--duplicates", type=at_least(1), default=defaults.duplicates, metavar="N",
        help="the same statement with the same parameters N times in one request is a "
        f"duplicate query (default {defaults.duplicates})",
    )  # fmt: skip
    group.add_argument(
        "--n-plus-one-api", type=at_least(1), default=defaults.n_plus_one_api, metavar="N",
        help="one outgoing method and URL pattern N times in one trace is an N+1 of API "
        f"calls (default {defaults.n_plus_one_api})",
    )  # fmt: skip
    group.add_argument(
        "--consecutive-http", type=at_least(1), default=defaults.consecutive_http, metavar="N",
        help="N outgoing calls one after the other from one span could have run "
        f"concurrently (default {defaults.consecutive_http})",
    )  # fmt: skip
    group.add_argument(
        "--slow-query-ms", type=at_least(0.0), default=defaults.slow_query_ms, metavar="MS",
        help=f"a statement slower than MS is a slow query (default {defaults.slow_query_ms:g})",
    )  # fmt: skip


def finding_options(args: argparse.Namespace) -> FindingOptions:
    """The options given on the command line."""
    return FindingOptions(
        n_plus_one=args.n_plus_one,
        duplicates=args.duplicates,
        n_plus_one_api=args.n_plus_one_api,
        consecutive_http=args.consecutive_http,
        slow_query_ms=args.slow_query_ms,
    )
