"""The redaction pass's shortcuts decide nothing on their own: at each shortcut's edge the
secret still goes, and what the shortcut skips is really left as the caller gave it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dm_log
from dm_log import REDACTED
from dm_log._bounds import MAX_ITEMS
from tests.conftest import read_events

TOKEN = "q8Zt3kLm9PxW2vRn"


def _raw(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*.jsonl"))


def _msgs(folder: Path, logger: str) -> list[str]:
    return [e["msg"] for e in read_events(folder) if e["event"] == "log" and e["logger"] == logger]


def test_reset_links_in_any_case_and_with_unicode_case_folding(log_dir: Path) -> None:
    # ASCII text is screened with lower() and substring tests; other text goes to the
    # case-blind regex, whose folding is wider (U+017F matches "s").
    texts = [
        f"GET /RESET/MQ/{TOKEN}/ 302",
        f"GET /Password-Reset/{TOKEN}/",
        f"see https://shop.example/magic_link/{TOKEN} now",
        f"GET /un\u017fubscribe/{TOKEN}/",
        f"GET /Verification/{TOKEN}/ from Zürich",
    ]
    dm_log.record("log", level="info", msg="GET /api/items/12/ 200", logger="links")
    for text in texts:
        dm_log.record("log", level="info", msg=text, logger="links")
    assert TOKEN.encode() not in _raw(log_dir)
    msgs = _msgs(log_dir, "links")
    assert msgs[0] == "GET /api/items/12/ 200"
    assert all(REDACTED in m for m in msgs[1:]), msgs


def test_text_seen_plain_is_scrubbed_once_its_secret_is_known(log_dir: Path) -> None:
    # The first time the text holds no shape and is remembered as plain; later in a span
    # that learnt the value, the same text must still be scrubbed.
    text = f"worker picked job {TOKEN}"
    dm_log.record("log", level="info", msg=text, logger="seen")
    with dm_log.span("request-like"):
        dm_log.record("x.login", password=TOKEN)
        dm_log.record("log", level="info", msg=text, logger="seen")
        dm_log.panel("Jobs", "kv", {"last": text})
    msgs = _msgs(log_dir, "seen")
    assert msgs == [text, f"worker picked job {REDACTED}"]
    panel = next(e for e in read_events(log_dir) if e["event"] == "panel")
    assert panel["content"] == {"last": f"worker picked job {REDACTED}"}


def test_long_text_past_the_plain_cache_limit_is_still_searched(log_dir: Path) -> None:
    for pad in (2040, 2048, 2049, 5000):
        text = "x" * pad + f" https://u:{TOKEN}@db.local/app?api_key={TOKEN}"
        dm_log.record("log", level="info", msg=text, logger="long")
        dm_log.record("log", level="info", msg=text, logger="long")  # and a second time
    assert TOKEN.encode() not in _raw(log_dir)
    assert len(_msgs(log_dir, "long")) == 8


def test_sql_parameters_each_side_of_the_short_list_shortcut(log_dir: Path) -> None:
    # Up to 16 plain numbers are taken as they are; past that, or with any string, the
    # list is walked. Either way the value bound to the password column goes.
    for count in (15, 16, 17, 40):
        columns = ", ".join([f'"c{i}"' for i in range(count - 1)] + ['"password"'])
        sql = f'INSERT INTO "t" ({columns}) VALUES ({", ".join(["%s"] * count)})'
        params: list[Any] = [*range(count - 1), f"{TOKEN}-{count}"]
        dm_log.record("sql", sql=sql, params=params, ms=0.1)
        dm_log.record("sql", sql=sql, params=[*range(count - 1), 7], ms=0.1)  # cached slots
    events = [e for e in read_events(log_dir) if e["event"] == "sql"]
    assert TOKEN.encode() not in _raw(log_dir)
    for first, second in zip(events[::2], events[1::2], strict=True):
        assert first["params"][-1] == REDACTED
        assert second["params"][-1] == REDACTED
        assert first["params"][:-1] == list(range(len(first["params"]) - 1))


def test_sql_statement_longer_than_a_string_is_redacted_every_time(log_dir: Path) -> None:
    sql = 'UPDATE "u" SET "password" = %s WHERE "id" = %s -- ' + "x" * 20_000
    for _ in range(2):
        dm_log.record("sql", sql=sql, params=[TOKEN, 1], ms=0.1)
    events = [e for e in read_events(log_dir) if e["event"] == "sql"]
    assert [e["params"] for e in events] == [[REDACTED, 1], [REDACTED, 1]]


def test_keys_and_statements_seen_before_a_new_secret_key_follow_it(log_dir: Path) -> None:
    # Verdicts, field plans and statement scans are cached; a new DM_REDACT_KEYS
    # entry applies to keys and statements already seen.
    sql = 'SELECT 1 FROM "p" WHERE "ssn" = %s'
    dm_log.record("x.person", ssn="123-45-6789", tags={"ssn": "1"})
    dm_log.record("sql", sql=sql, params=["123-45-6789"], ms=0.1)
    dm_log.configure(redact_keys=("ssn",))
    try:
        dm_log.record("x.person", ssn="987-65-4321", tags={"ssn": "2"})
        dm_log.record("sql", sql=sql, params=["987-65-4321"], ms=0.1)
    finally:
        dm_log.configure(redact_keys=())
    raw = _raw(log_dir)
    assert b"123-45-6789" in raw and b"987-65-4321" not in raw
    person = [e for e in read_events(log_dir) if e["event"] == "x.person"][-1]
    assert person["ssn"] == REDACTED and person["tags"] == {"ssn": REDACTED}


def test_a_field_name_is_judged_per_kind(log_dir: Path) -> None:
    # "params" of an sql event is a list bound to placeholders; of any other kind it is
    # walked like any mapping; "site" is the writer's own only in the kinds that define it.
    dm_log.record("sql", sql="SELECT 1", params=[1], ms=0.1, site={"file": "a.py", "line": 1})
    dm_log.record("x.call", params={"token": TOKEN}, site={"url": f"https://u:{TOKEN}@h/"})
    dm_log.record("sql", sql="SELECT 2", params=[2], ms=0.1)
    assert TOKEN.encode() not in _raw(log_dir)
    call = next(e for e in read_events(log_dir) if e["event"] == "x.call")
    assert call["params"] == {"token": REDACTED}


def test_unchanged_values_are_written_as_given_and_never_modified(log_dir: Path) -> None:
    content = {"course": "demo", "rows": [[1, "a"], [2, "b"]], "meta": {"n": 1}}
    nested = {"outer": {"inner": {"note": "plain", "api_token": TOKEN}}, "n": 1}
    before = repr((content, nested))
    dm_log.panel("Plain", "json", content)
    dm_log.panel("Nested", "json", nested)
    assert repr((content, nested)) == before  # the caller's objects are left alone
    panels = {e["panel"]: e for e in read_events(log_dir) if e["event"] == "panel"}
    assert panels["Plain"]["content"] == content
    assert panels["Nested"]["content"] == {
        "outer": {"inner": {"note": "plain", "api_token": REDACTED}},
        "n": 1,
    }


def test_containers_each_side_of_the_item_limit(log_dir: Path) -> None:
    for size in (MAX_ITEMS, MAX_ITEMS + 1):
        mapping = {f"k{i}": i for i in range(size)}
        dm_log.panel(f"map {size}", "json", {"m": mapping, "l": list(range(size))})
    panels = {e["panel"]: e["content"] for e in read_events(log_dir) if e["event"] == "panel"}
    exact, over = panels[f"map {MAX_ITEMS}"], panels[f"map {MAX_ITEMS + 1}"]
    assert len(exact["m"]) == MAX_ITEMS and "…" not in exact["m"]
    assert exact["l"] == list(range(MAX_ITEMS))
    assert over["m"]["…"] == "…[truncated 1]" and len(over["m"]) == MAX_ITEMS + 1
    assert over["l"][-1] == "…[truncated 1]" and len(over["l"]) == MAX_ITEMS + 1


def test_a_cache_key_is_text_not_a_secret_field(log_dir: Path) -> None:
    # The cache event's "key" is the cache key (the integration redacts it when its own
    # text looks secret); it is written, and cleaned by shape and by value like any text.
    with dm_log.span("request-like"):
        dm_log.record("x.login", password=TOKEN)
        for key in ("shop:featured", f"user:{TOKEN}", f"link:/reset/{TOKEN}/x"):
            dm_log.record("cache", op="get", key=key, backend="default", ms=0.1, hit=False)
        dm_log.record("log", level="info", msg="shop:featured was a miss", logger="after")
    assert TOKEN.encode() not in _raw(log_dir)
    keys = [e["key"] for e in read_events(log_dir) if e["event"] == "cache"]
    assert keys == ["shop:featured", f"user:{REDACTED}", f"link:/reset/{REDACTED}/{REDACTED}"]
    assert _msgs(log_dir, "after") == ["shop:featured was a miss"]  # not remembered as secret


def test_long_keys_are_kept_to_the_string_limit(log_dir: Path) -> None:
    # A folded profiler stack is a key of a few kilobytes; only past the string limit
    # is a key cut.
    from dm_log._bounds import MAX_STRING

    deep = ";".join(f"pkg.module{i}:function_{i}" for i in range(120))
    huge = "k" * (MAX_STRING + 10)
    dm_log.panel("Stacks", "json", {deep: 3, huge: 1})
    content = next(e for e in read_events(log_dir) if e["event"] == "panel")["content"]
    assert content[deep] == 3
    (cut,) = [k for k in content if k.startswith("kkk")]
    assert cut == "k" * MAX_STRING + "…[truncated 10 chars]"


def test_a_list_changed_midway_keeps_every_item_in_place(log_dir: Path) -> None:
    # A list is copied only at its first changed item: the items before it, the changed
    # one and those after all land in the file in order; tuples become lists.
    link = f"https://u:{TOKEN}@example.com/x"
    given = ["first", 2, {"a": 1}, link, "last", [f"token={TOKEN}"], None]
    untouched = ("plain", 1, ["x"])
    before = repr((given, untouched))
    dm_log.panel("Lists", "json", {"given": given, "untouched": untouched})
    assert repr((given, untouched)) == before
    (panel,) = [e["content"] for e in read_events(log_dir) if e["event"] == "panel"]
    assert panel["given"] == [
        "first", 2, {"a": 1}, f"https://u:{REDACTED}@example.com/x", "last",
        [f"token={REDACTED}"], None,
    ]  # fmt: skip
    assert panel["untouched"] == ["plain", 1, ["x"]]
    assert TOKEN.encode() not in _raw(log_dir)


class _LooksPlain:
    """Hashes and compares like a text already seen plain; its own text holds a secret."""

    def __hash__(self) -> int:
        return hash("GET /api/items/12/ 200")

    def __eq__(self, other: object) -> bool:
        return True

    def __str__(self) -> str:
        return f"password={TOKEN}"

    __repr__ = __str__


def test_containers_of_plain_texts_seen_before_are_written_as_given(log_dir: Path) -> None:
    # The shortcut: a list or mapping of texts each already seen plain is left as it is.
    seen = ["GET /api/items/12/ 200", "shop.views.index"]
    tags = {"path": seen[0], "view": seen[1]}
    dm_log.record("x.first", items=seen, tags=tags)
    dm_log.record("x.again", items=seen, tags=tags)
    (again,) = [e for e in read_events(log_dir) if e["event"] == "x.again"]
    assert again["items"] == seen and again["tags"] == tags


def test_containers_the_shortcut_must_not_take_are_still_walked(log_dir: Path) -> None:
    plain = "GET /api/items/12/ 200"
    dm_log.record("x.first", items=[plain], tags={"path": plain})
    # An object equal to a plain text, a text subclass, a secret key among safe ones, a
    # mapping nested after a text: each is walked, and its secret goes.
    dm_log.record("x.hostile", items=[plain, _LooksPlain()], tags={"path": _LooksPlain()})
    dm_log.record("x.subclass", items=[plain, type("Text", (str,), {})(f"token={TOKEN}")])
    dm_log.record("x.key", tags={"path": plain, "token": TOKEN})
    dm_log.record("x.nested", items=[plain, {"password": TOKEN}])
    with dm_log.span("secret-first"):
        dm_log.record("x.login", password=TOKEN)
        dm_log.record("x.scrubbed", items=[plain, f"sent {TOKEN}"])
    assert TOKEN.encode() not in _raw(log_dir)
    events = {e["event"]: e for e in read_events(log_dir)}
    assert events["x.hostile"]["items"] == [plain, f"password={REDACTED}"]
    assert events["x.hostile"]["tags"] == {"path": f"password={REDACTED}"}
    assert events["x.key"]["tags"] == {"path": plain, "token": REDACTED}
    assert events["x.nested"]["items"] == [plain, {"password": REDACTED}]
    assert events["x.scrubbed"]["items"] == [plain, f"sent {REDACTED}"]


def test_a_fields_look_is_decided_per_shape_of_event_not_per_kind(log_dir: Path) -> None:
    # What the pass looks at is kept per kind, keys and value types: the same field with
    # a number, then a text, then a mapping is looked at as each; a secret key is
    # redacted whatever its value's type.
    dm_log.record("x.job", ref=1, note=None, pin=1234)
    dm_log.record("x.job", ref=f"https://u:{TOKEN}@h/", note=None, pin=5678)
    dm_log.record("x.job", ref={"token": TOKEN}, note=None, pin=9012)
    dm_log.record("x.job", ref=2, note=f"password={TOKEN}", pin=3456)
    jobs = [e for e in read_events(log_dir) if e["event"] == "x.job"]
    assert TOKEN.encode() not in _raw(log_dir)
    assert [j["pin"] for j in jobs] == [REDACTED] * 4
    assert jobs[0]["ref"] == 1 and jobs[3]["ref"] == 2
    assert jobs[1]["ref"] == f"https://u:{REDACTED}@h/"
    assert jobs[2]["ref"] == {"token": REDACTED}
    assert jobs[3]["note"] == f"password={REDACTED}"
