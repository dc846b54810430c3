"""Secrets never reach the file: by key where a key names them, by value everywhere else."""

from __future__ import annotations

import logging
from pathlib import Path

import dm_log
from dm_log import REDACTED
from tests.conftest import read_events

SECRETS = [
    "Bearer-abc123SECRET",
    "sess-zz9SECRET",
    "hunter2SECRET",
    "tok-qq7SECRET",
    "key-55SECRET",
]


def test_no_secret_survives_anywhere(log_dir: Path) -> None:
    logger = logging.getLogger("redaction.test")
    logger.addHandler(handler := dm_log.LogHandler())
    try:
        req = dm_log.start_span(
            "request",
            method="POST",
            path="/login",
            query="next=/home&access_token=tok-qq7SECRET",
            headers={
                "Authorization": "Bearer Bearer-abc123SECRET",
                "Cookie": "sessionid=sess-zz9SECRET; theme=dark",
                "X-Api-Key": "key-55SECRET",
                "Accept": "text/html",
            },
            form={"username": "bob", "password": "hunter2SECRET", "csrfmiddlewaretoken": "c" * 20},
        )
        # The same secrets turn up where no key names them.
        dm_log.record(
            "sql",
            sql='SELECT * FROM "authtoken_token" WHERE "authtoken_token"."key" = %s',
            params=["tok-qq7SECRET"],
            ms=0.2,
        )
        dm_log.record(
            "sql",
            sql='UPDATE "auth_user" SET "password" = %s WHERE "id" = %s',
            params=["pbkdf2_sha256$abc", 1],
            ms=0.2,
        )
        logger.warning("login by bob with session sess-zz9SECRET")
        with dm_log.span("call-out"):
            http = dm_log.start_span(
                "http",
                method="GET",
                url="https://user:pw-SECRET-99@api.local/x?api_key=key-55SECRET&q=1",
            )
            http.end(status=200)
        dm_log.panel("Auth", "kv", {"user": "bob", "api_token": "tok-qq7SECRET"})
        dm_log.panel("Auth", "json", {"nested": {"password": "hunter2SECRET"}})
        req.end(status=200, headers={"Set-Cookie": "sessionid=sess-zz9SECRET; HttpOnly"})
    finally:
        logger.removeHandler(handler)

    raw = b"".join(p.read_bytes() for p in log_dir.rglob("*"))
    for secret in [*SECRETS, "pw-SECRET-99", "pbkdf2_sha256", "c" * 20]:
        assert secret.encode() not in raw, secret
    events = read_events(log_dir)
    start = next(e for e in events if e["event"] == "request.start")
    assert start["headers"]["Accept"] == "text/html"
    assert start["headers"]["Authorization"] == REDACTED
    assert start["form"]["username"] == "bob"
    assert "next=%2Fhome" in start["query"] or "next=/home" in start["query"]
    sqls = [e for e in events if e["event"] == "sql"]
    assert sqls[0]["params"] == [REDACTED]
    assert sqls[1]["params"] == [REDACTED, 1]
    log = next(e for e in events if e["event"] == "log")
    assert log["msg"] == f"login by bob with session {REDACTED}"
    url = next(e for e in events if e["event"] == "http.start")["url"]
    assert url.startswith("https://user:" + REDACTED + "@api.local/x?") and "q=1" in url


def test_executemany_rows_and_command_argv(log_dir: Path) -> None:
    dm_log.record(
        "sql",
        sql='INSERT INTO "auth_user" ("username", "password") VALUES (%s, %s)',
        params=[["ann", "pw-one-SECRET"], ["bob", "pw-two-SECRET"]],
        many=True,
        ms=1.0,
    )
    cmd = dm_log.start_span(
        "command", command="sync", params={"api_token": "tok-9SECRET", "n": 1},
        argv=["manage.py", "sync", "--password", "pw-3SECRET", "--token=tok-4SECRET", "-v", "2"],
    )  # fmt: skip
    cmd.end(status="FINISHED")
    raw = b"".join(p.read_bytes() for p in log_dir.rglob("*.jsonl"))
    for secret in (
        b"pw-one-SECRET",
        b"pw-two-SECRET",
        b"tok-9SECRET",
        b"pw-3SECRET",
        b"tok-4SECRET",
    ):
        assert secret not in raw
    events = read_events(log_dir)
    sql = next(e for e in events if e["event"] == "sql")
    assert sql["params"] == [["ann", REDACTED], ["bob", REDACTED]]
    start = next(e for e in events if e["event"] == "command.start")
    assert start["argv"] == [
        "manage.py",
        "sync",
        "--password",
        REDACTED,
        f"--token={REDACTED}",
        "-v",
        "2",
    ]
    assert start["params"] == {"api_token": REDACTED, "n": 1}


def test_extra_keys_are_configurable(log_dir: Path) -> None:
    dm_log.configure(redact_keys=("ssn",))
    try:
        dm_log.panel("Person", "kv", {"name": "Ann", "ssn": "123-45-6789"})
    finally:
        dm_log.configure(redact_keys=())
    panel = next(e for e in read_events(log_dir) if e["event"] == "panel")
    assert panel["content"] == {"name": "Ann", "ssn": REDACTED}


def test_reset_links_lose_their_token_and_ordinary_text_is_kept(log_dir: Path) -> None:
    token = "c7m5y5-9f3e2a1b0c4d5e6f7a8b"
    req = dm_log.start_span("request", method="GET", path=f"/reset/MQ/{token}/")
    dm_log.record("log", level="info", msg=f"mail sent with https://shop/reset/MQ/{token}/",
                  logger="mail")  # fmt: skip
    dm_log.record("log", level="info", msg=f"clicked at {token[:20]}", logger="mail")
    kept = [
        "GET /api/items/12/ 200",
        "POST /api/token/refresh/",
        'SELECT "a"."id" FROM "a" WHERE "a"."id" = %s AND "a"."n" = 3',
        "page=2&sort=name&q=shoes",
        "user@example.com wrote to ops@example.com",
    ]
    for text in kept:
        dm_log.record("log", level="info", msg=text, logger="plain")
    req.end(status=200)
    raw = b"".join(p.read_bytes() for p in log_dir.rglob("*.jsonl"))
    assert token.encode() not in raw
    events = read_events(log_dir)
    start = next(e for e in events if e["event"] == "request.start")
    assert start["path"] == f"/reset/{REDACTED}/{REDACTED}/"
    msgs = [e["msg"] for e in events if e["event"] == "log" and e["logger"] == "plain"]
    assert msgs == kept


def test_top_level_keys_tags_and_sql_literals(log_dir: Path) -> None:
    with dm_log.span("request-like"):
        with dm_log.span("work") as span:
            span.set(password="pw-top-SECRET", rows=3)
        dm_log.metric("calls", 1, api_key="mk-SECRET-1", region="eu")
        dm_log.record("x.audit", passphrase="pp-SECRET-2", who="ann")
        dm_log.record(
            "sql", sql="UPDATE u SET password = 'lit-SECRET-3' WHERE id = 1", params=[], ms=0.1
        )
        # Remembered from the span end above: the same value as an SQL literal later on.
        dm_log.record("sql", sql="SELECT 1 FROM t WHERE note = 'pw-top-SECRET'", params=[], ms=0.1)
    raw = b"".join(p.read_bytes() for p in log_dir.rglob("*.jsonl"))
    for secret in (b"pw-top-SECRET", b"mk-SECRET-1", b"pp-SECRET-2", b"lit-SECRET-3"):
        assert secret not in raw, secret
    events = read_events(log_dir)
    end = next(e for e in events if e["event"] == "span.end")
    assert end["password"] == REDACTED and end["rows"] == 3
    metric = next(e for e in events if e["event"] == "metric")
    assert metric["tags"] == {"api_key": REDACTED, "region": "eu"}
    assert next(e for e in events if e["event"] == "x.audit")["who"] == "ann"


def test_user_fields_named_like_code_locations_are_redacted_too(log_dir: Path) -> None:
    dm_log.record(
        "x.deploy", site={"url": "https://deploy:pw-site-SECRET@ci/x"}, call="token=tk-SECRET"
    )
    raw = b"".join(p.read_bytes() for p in log_dir.rglob("*.jsonl"))
    assert b"pw-site-SECRET" not in raw and b"tk-SECRET" not in raw


def test_code_locations_are_not_judged_by_their_names(log_dir: Path) -> None:
    """A profile's folded stacks and a cache call's site name code, not secrets."""
    stack = "django.contrib.sessions.middleware:process_request;auth.tokens:check_token"
    with dm_log.span("profiled"):
        dm_log.record("profile", interval=0.001, samples=7, ms=7.5, stacks={stack: 7})
        site = {"file": "/srv/app/tokens.py", "line": 3, "func": "password_reset"}
        dm_log.record("cache", op="get", key="session:42", hit=True, backend="default", ms=0.1,
                      site=site)  # fmt: skip
    events = {e["event"]: e for e in read_events(log_dir)}
    assert events["profile"]["stacks"] == {stack: 7}
    assert events["cache"]["key"] == "session:42"
    assert events["cache"]["site"]["func"] == "password_reset"


def test_an_auth_scheme_without_a_credential_is_not_scrubbed_from_later_text(
    log_dir: Path,
) -> None:
    """``Authorization: Basic `` (a client that sent no credential) is redacted where it
    stands, but the word stays readable in the 401's ``WWW-Authenticate`` challenge; a
    real credential is still scrubbed from later text."""
    with dm_log.span("no-credential"):
        req = dm_log.start_span(
            "request", method="GET", path="/api/", headers={"Authorization": "Basic "}
        )
        req.end(status=401, headers={"WWW-Authenticate": 'Basic realm="api"'})
    with dm_log.span("credential"):
        req = dm_log.start_span(
            "request", method="GET", path="/api/", headers={"Authorization": "Token 7f3c9a1b2e"}
        )
        dm_log.record("log", level="warning", logger="api", msg="token 7f3c9a1b2e refused")
        req.end(status=401, headers={"WWW-Authenticate": 'Token realm="api"'})
    events = read_events(log_dir)
    starts = [e for e in events if e["event"] == "request.start"]
    ends = [e for e in events if e["event"] == "request.end"]
    assert [e["headers"]["Authorization"] for e in starts] == [REDACTED, REDACTED]
    assert [e["headers"]["WWW-Authenticate"] for e in ends] == [
        'Basic realm="api"',
        'Token realm="api"',
    ]
    (log,) = [e for e in events if e["event"] == "log"]
    assert log["msg"] == f"token {REDACTED} refused"
