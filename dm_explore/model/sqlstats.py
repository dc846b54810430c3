"""SQL analysis over a list of statements: duplicates, similar queries, N+1 suspects, slowest."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .records import SqlRec

__all__ = ["SqlGroup", "SqlReport", "analyze_sql", "is_transaction_control"]

DEFAULT_N_PLUS_ONE = 5

_TRANSACTION_CONTROL = re.compile(
    r"\s*(?:BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|START\s+TRANSACTION|END)\b(?!\s*\()",
    re.IGNORECASE,
)
_verdicts: dict[str, bool] = {}  # statement text -> transaction control or not


def is_transaction_control(sql: str) -> bool:
    """Whether ``sql`` is a transaction control statement: ``BEGIN``, ``COMMIT``,
    ``ROLLBACK``, ``SAVEPOINT``, ``RELEASE [SAVEPOINT]``, ``ROLLBACK TO SAVEPOINT``,
    ``START TRANSACTION``, ``END``.

    They are shown with the other statements but never count as duplicates,
    similar queries or N+1 suspects: ``transaction.atomic()`` repeats them by design.
    """
    found = _verdicts.get(sql)
    if found is None:
        if len(_verdicts) > 10_000:
            _verdicts.clear()
        found = _verdicts[sql] = _TRANSACTION_CONTROL.match(sql) is not None
    return found


@dataclass(slots=True)
class SqlGroup:
    """Statements with the same SQL text (and, for duplicates, the same parameters)."""

    sql: str
    count: int
    total_ms: float
    sites: list[str] = field(default_factory=list)
    distinct_params: int = 1


@dataclass(slots=True)
class SqlReport:
    """What the SQL of one span (or trace) says: the basis of the SQL views and reports."""

    count: int = 0
    total_ms: float = 0.0
    duplicates: list[SqlGroup] = field(default_factory=list)  # same SQL, same params, >1
    similar: list[SqlGroup] = field(default_factory=list)  # same SQL, several params
    n_plus_one: list[SqlGroup] = field(default_factory=list)  # similar, repeated >= N
    slowest: list[SqlRec] = field(default_factory=list)
    duplicate_ids: set[int] = field(default_factory=set)  # id() of statements in a duplicate set
    similar_ids: set[int] = field(default_factory=set)
    n_plus_one_ids: set[int] = field(default_factory=set)


def analyze_sql(
    statements: Iterable[SqlRec], *, n_plus_one: int = DEFAULT_N_PLUS_ONE, top: int = 10
) -> SqlReport:
    """Group ``statements`` by text and by text+params.

    *Duplicate*: the same SQL with the same parameters more than once (a cache
    would help). *Similar*: the same SQL with different parameters. *N+1
    suspect*: a similar query run at least ``n_plus_one`` times (a loop that
    should have been one query with a join or ``prefetch_related``). Transaction
    control statements (:func:`is_transaction_control`) are counted and timed,
    never grouped.
    """
    report = SqlReport()
    by_text: dict[str, list[SqlRec]] = defaultdict(list)
    stmts = list(statements)
    for rec in stmts:
        report.count += 1
        report.total_ms += rec.ms
        if not is_transaction_control(rec.sql):
            by_text[rec.sql].append(rec)
    for sql, recs in by_text.items():
        if len(recs) < 2:
            continue
        by_params: dict[str, list[SqlRec]] = defaultdict(list)
        for rec in recs:
            by_params[rec.params].append(rec)
        sites = sorted({r.site_text() for r in recs if r.site is not None})
        total = sum(r.ms for r in recs)
        for same in by_params.values():
            if len(same) > 1:
                report.duplicates.append(
                    SqlGroup(
                        sql,
                        len(same),
                        sum(r.ms for r in same),
                        sorted({r.site_text() for r in same if r.site}),
                    )
                )
                report.duplicate_ids.update(id(r) for r in same)
        if len(by_params) > 1:
            group = SqlGroup(sql, len(recs), total, sites, len(by_params))
            report.similar.append(group)
            report.similar_ids.update(id(r) for r in recs)
            if len(recs) >= n_plus_one:
                report.n_plus_one.append(group)
                report.n_plus_one_ids.update(id(r) for r in recs)
    for groups in (report.duplicates, report.similar, report.n_plus_one):
        groups.sort(key=lambda g: (-g.count, -g.total_ms))
    report.slowest = sorted(stmts, key=lambda r: -r.ms)[:top]
    return report
