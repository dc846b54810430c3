"""Secrets at random depths and positions, in every kind, never reach a file.

Hypothesis builds values with a secret buried at a random depth (dicts and lists,
at a random position among filler), or written into free text in one of the shapes
the writer knows (a URL's userinfo, a ``name=value`` pair), and sends them through
the public API, the logging handler, exceptions and span ends. Then the bytes of
every file are searched for the secret. Each example also checks that nothing was
dropped or refused, so a secret cannot "vanish" by its event vanishing.
"""

from __future__ import annotations

import logging
import shutil
import string
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dm_log
from dm_log import _config, is_secret_key
from tests.conftest import read_events

SECRET = st.text(alphabet=string.ascii_letters + string.digits, min_size=10, max_size=20).map(
    lambda s: "Zq" + s
)
KEY = st.sampled_from(
    ["password", "passphrase", "pass", "key", "api_key", "access_token", "client_secret",
     "Authorization", "X-Api-Key", "sessionid", "csrfmiddlewaretoken", "PASSWORD", "db_pwd",
     "refresh_token", "private_key", "signature"]
)  # fmt: skip
QUERY_KEY = st.sampled_from(["passphrase", "pass", "key", "api_key", "access_token", "token"])
NAME = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8).filter(
    lambda k: not is_secret_key(k)
)
WORDS = st.text(alphabet=string.ascii_letters + string.digits + " .-:", max_size=20)
FILLER = st.one_of(st.integers(-1000, 1000), st.booleans(), st.none(), WORDS)
SHAPES = [
    "https://user:{s}@api.example.com/v1?x=1",
    "postgres://app:{s}@db.internal:5432/shop",
    "redis://:{s}@cache:6379/0",
    "https://{s}@github.com/org/repo.git",
    "https://api.example.com/x?q=1&{k}={s}&page=2",
    "/search?{k}={s}",
    "{k}={s}",
]
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def bury(data: st.DataObject, leaf: Any) -> Any:
    """``leaf`` inside 0-6 levels of dicts and lists, at a random place among filler."""
    value = leaf
    for _ in range(data.draw(st.integers(0, 6))):
        if data.draw(st.booleans()):
            items = list(data.draw(st.dictionaries(NAME, FILLER, max_size=3)).items())
            name = data.draw(NAME.filter(lambda n, items=items: n not in dict(items)))
            items.insert(data.draw(st.integers(0, len(items))), (name, value))
            value = dict(items)
        else:
            items = data.draw(st.lists(FILLER, max_size=3))
            items.insert(data.draw(st.integers(0, len(items))), value)
            value = items
    return value


def in_text(data: st.DataObject, secret: str) -> str:
    """``secret`` in free text, in one of the shapes the writer recognises."""
    shape = data.draw(st.sampled_from(SHAPES)).format(s=secret, k=data.draw(QUERY_KEY))
    return f"{data.draw(WORDS)} {shape} {data.draw(WORDS)}".strip()


class Folder:
    """A fresh log folder for one example, recording on; the bytes it holds afterwards."""

    def __enter__(self) -> Folder:
        self.path = Path(tempfile.mkdtemp(prefix="dm-secrets-")) / "logs"
        self.before = _config.current()
        dm_log.configure(log_dir=self.path, service="secrets", validate_all=True)
        return self

    def __exit__(self, *exc: object) -> None:
        dm_log.configure(log_dir=self.before.log_dir, service=self.before.service,
                         validate_all=self.before.validate_all)  # fmt: skip
        shutil.rmtree(self.path.parent, ignore_errors=True)

    def check(self, secret: str, kinds: set[str]) -> None:
        raw = b"".join(p.read_bytes() for p in self.path.rglob("*.jsonl"))
        assert secret.encode() not in raw, [
            line for line in raw.splitlines() if secret.encode() in line
        ][:3]
        events = read_events(self.path)
        seen = {e["event"] for e in events}
        assert kinds <= seen, kinds - seen
        bad = [e for e in events if e["event"] in ("dm.invalid", "dm.dropped")]
        assert not bad, bad[:2]


def _every_kind(data: st.DataObject, secret: str, leaf: Any, text: str, fresh: bool) -> set[str]:
    """One event of every kind carrying ``leaf`` (a buried value) and ``text``.

    With ``fresh`` each kind is written in a root span of its own, so no secret
    remembered by another event can help: each must be caught by key or shape.
    """
    log = logging.getLogger("dm.secrets.property")
    log.propagate = False
    handler = dm_log.LogHandler()
    log.addHandler(handler)
    key = data.draw(KEY)

    def own(name: str) -> Any:
        return dm_log.span(name) if fresh else _Null()

    try:
        with own("panel"):
            dm_log.panel("P", "json", bury(data, leaf))
            dm_log.panel("P", "kv", {"where": bury(data, leaf)})
            dm_log.panel("P", "table", [["a", bury(data, leaf)]], columns=["x", "y"])
            dm_log.panel("P", "markdown", text)
        with own("metric"):
            dm_log.metric("m", 1, **{key: secret})
            dm_log.metric("m", 2, source=text)
        with own("span"), dm_log.span("work", detail=bury(data, leaf), note=text) as span:
            span.set(**{key: secret})
        with own("x"):
            dm_log.record("x.custom", **{key: secret}, payload=bury(data, leaf), note=text)
        with own("log"):
            log.warning("calling %s", text, extra={"ctx": bury(data, leaf)})
        with own("exception"):
            try:
                try:
                    raise KeyError(text)
                except KeyError as inner:
                    raise RuntimeError(f"failed: {text}") from inner
            except RuntimeError as exc:
                dm_log.capture_exception(exc)
        with own("http"):
            http = dm_log.start_span("http", method="GET", url=text)
            http.end(error=f"ConnectionError: {text}")
        with own("command"):
            cmd = dm_log.start_span(
                "command", command="sync", params={"opts": bury(data, leaf)},
                argv=["manage.py", "sync", f"--{key}", secret, text],
            )  # fmt: skip
            cmd.end(status="FAILED", error=f"could not connect: {text}")
        with own("sql"):
            dm_log.record(
                "sql", sql='UPDATE "auth_user" SET "password" = %s WHERE "id" = %s',
                params=[secret, 1], ms=0.1,
            )  # fmt: skip
            dm_log.record("sql", sql=f"UPDATE t SET password = '{secret}'", params=[], ms=0.1)
        with dm_log.span("progress"):  # progress belongs to a span
            dm_log.progress(1, 2, text)
    finally:
        log.removeHandler(handler)
    return {"panel", "metric", "span.end", "x.custom", "log", "exception", "http.end",
            "command.start", "command.end", "sql", "progress"}  # fmt: skip


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@SETTINGS
@given(data=st.data(), secret=SECRET)
def test_by_key_and_by_shape_in_every_kind_each_on_its_own(
    data: st.DataObject, secret: str
) -> None:
    leaf = {data.draw(KEY): secret}
    with Folder() as folder:
        kinds = _every_kind(data, secret, leaf, in_text(data, secret), fresh=True)
        folder.check(secret, kinds)


@SETTINGS
@given(data=st.data(), secret=SECRET)
def test_outside_any_span_each_event_remembers_for_itself(data: st.DataObject, secret: str) -> None:
    leaf = {data.draw(KEY): secret}
    with Folder() as folder:
        kinds = _every_kind(data, secret, leaf, in_text(data, secret), fresh=False)
        folder.check(secret, kinds)


@SETTINGS
@given(data=st.data(), secret=SECRET)
def test_a_secret_redacted_once_is_scrubbed_from_plain_text_in_every_kind(
    data: st.DataObject, secret: str
) -> None:
    """Redacted once by key in the request; then bare, in free text, everywhere below it."""
    words = data.draw(WORDS)
    plain = f"{words} {secret} {data.draw(WORDS)}" if data.draw(st.booleans()) else secret
    with Folder() as folder:
        request = dm_log.start_span(
            "request", method="POST", path="/login",
            headers={data.draw(st.sampled_from(["Authorization", "X-Api-Key", "Cookie"])):
                     data.draw(st.sampled_from(["Bearer {}", "{}", "sessionid={}; theme=dark"]))
                     .format(secret)},
        )  # fmt: skip
        kinds = _every_kind(data, secret, bury(data, plain), plain, fresh=False)
        request.end(status=200, error=f"late: {plain}")
        folder.check(secret, kinds | {"request.start", "request.end"})
