"""Sending OTLP requests to an OTLP/HTTP receiver: configuration, encoding, retries.

:func:`endpoint_from` reads the OpenTelemetry exporter variables as the
specification states them, for each signal (traces, logs, metrics):
``OTEL_EXPORTER_OTLP_ENDPOINT`` is a base URL to which ``/v1/traces``,
``/v1/logs`` or ``/v1/metrics`` is appended, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
(``_LOGS_``, ``_METRICS_``) is used as it is; ``OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS``
(``k=v,k2=v2``, values URL-encoded), ``_PROTOCOL`` (``http/protobuf``, the default,
or ``http/json``), ``_TIMEOUT`` (milliseconds) and ``_COMPRESSION`` (``gzip``)
likewise, the signal's own variable first. A URL given on the command line is a
base, as the first variable is, for every signal.

:class:`Sender` posts one request at a time over one kept-alive connection.
429, 502, 503, 504 and connection errors are retried with exponential backoff
(doubling from 0.5 s up to 30 s, with jitter), waiting as long as a
``Retry-After`` header asks; after ``give_up`` seconds of failures it raises
:class:`Unreachable`. Any other answer that is not 2xx raises :class:`Refused`
with the receiver's own message.
"""

from __future__ import annotations

import gzip
import http.client
import os
import random
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from .otlp_proto import encode_logs_request, encode_metrics_request, encode_trace_request

__all__ = [
    "SIGNALS",
    "Endpoint",
    "Refused",
    "SendError",
    "Sender",
    "Unreachable",
    "endpoint_from",
    "endpoints_from",
    "not_served",
]

PROTOBUF, JSON = "http/protobuf", "http/json"
SIGNALS = ("traces", "logs", "metrics")
_ENCODERS = {
    "traces": encode_trace_request,
    "logs": encode_logs_request,
    "metrics": encode_metrics_request,
}
RETRY_STATUSES = frozenset((429, 502, 503, 504))
NOT_SERVED = frozenset((404, 405, 501))  # a receiver without this signal's endpoint
FIRST_BACKOFF, MAX_BACKOFF = 0.5, 30.0
MAX_MESSAGE = 2000  # characters of a receiver's answer kept in an error


class SendError(Exception):
    """A request the receiver did not take."""


class Refused(SendError):
    """The receiver answered with an error that retrying would not change (a 4xx)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"the receiver refused the request: HTTP {status}: {message}")
        self.status, self.message = status, message


class Unreachable(SendError):
    """Connection errors or 429/502/503/504 for longer than the sender waits.

    ``retry_after``: the seconds the receiver last asked to wait, if it did.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(slots=True)
class Endpoint:
    """Where and how one signal is sent."""

    url: str  # the full URL of the signal's endpoint
    protocol: str = PROTOBUF
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    compression: str | None = None  # None or "gzip"
    signal: str = "traces"  # "traces", "logs" or "metrics"
    # sent because the base URL names every signal, not asked for: a receiver that does
    # not serve it (NOT_SERVED) stops it being sent, without failing the run
    optional: bool = False


def _headers(text: str | None) -> dict[str, str]:
    """``k=v,k2=v2`` with URL-encoded values, as the specification writes headers."""
    found: dict[str, str] = {}
    for item in (text or "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            found[unquote(key.strip())] = unquote(value.strip())
    return found


def endpoint_from(
    base: str | None,
    protocol: str | None = None,
    env: Mapping[str, str] | None = None,
    signal: str = "traces",
) -> Endpoint | None:
    """One signal's endpoint from a base URL (the command line's) and the OTLP variables.

    Returns None when neither names an endpoint.
    """
    env = os.environ if env is None else env
    own = f"OTEL_EXPORTER_OTLP_{signal.upper()}_"

    def var(name: str) -> str | None:
        return env.get(own + name) or env.get(f"OTEL_EXPORTER_OTLP_{name}")

    path = f"/v1/{signal}"
    if base:
        url = base.rstrip("/") + path
    elif env.get(own + "ENDPOINT"):
        url = env[own + "ENDPOINT"]
    elif env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        url = env["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + path
    else:
        return None
    chosen = protocol or var("PROTOCOL") or PROTOBUF
    if chosen not in (PROTOBUF, JSON):
        raise ValueError(f"unsupported OTLP protocol {chosen!r}: use {PROTOBUF} or {JSON}")
    headers = {**_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS"))}
    headers.update(_headers(env.get(own + "HEADERS")))
    timeout_ms = var("TIMEOUT")
    timeout = float(timeout_ms) / 1000 if timeout_ms and timeout_ms.isdigit() else 10.0
    compression = "gzip" if (var("COMPRESSION") or "").lower() == "gzip" else None
    return Endpoint(url, chosen, headers, timeout, compression, signal)


def endpoints_from(
    base: str | None,
    protocol: str | None = None,
    env: Mapping[str, str] | None = None,
    signals: tuple[str, ...] = SIGNALS,
) -> dict[str, Endpoint]:
    """The endpoints of ``signals`` that the base URL or the variables name, by signal."""
    found = {}
    for signal in signals:
        endpoint = endpoint_from(base, protocol, env, signal)
        if endpoint is not None:
            found[signal] = endpoint
    return found


def not_served(endpoint: Endpoint, exc: SendError) -> bool:
    """Whether ``exc`` says that the receiver has no endpoint for a signal not asked for."""
    return endpoint.optional and isinstance(exc, Refused) and exc.status in NOT_SERVED


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _status_message(body: bytes, content_type: str) -> str:
    """The receiver's message: a google.rpc.Status's ``message`` for protobuf, else the text."""
    if "protobuf" in content_type:
        i = 0
        try:
            while i < len(body):
                key = body[i]
                i += 1
                if key & 7 == 0:  # varint: skip it
                    while body[i] & 0x80:
                        i += 1
                    i += 1
                    continue
                if key & 7 != 2:
                    break
                length, shift = 0, 0
                while True:
                    b = body[i]
                    i += 1
                    length |= (b & 0x7F) << shift
                    shift += 7
                    if not b & 0x80:
                        break
                if key >> 3 == 2:
                    return body[i : i + length].decode("utf-8", "replace")[:MAX_MESSAGE]
                i += length
        except IndexError:
            pass
    return body.decode("utf-8", "replace").strip()[:MAX_MESSAGE] or "(no message)"


class Sender:
    """Posts one signal's requests to its endpoint; counts what was sent.

    ``stop``: set it to cut a backoff wait short (the request then fails with
    :class:`Unreachable`).
    """

    def __init__(
        self, endpoint: Endpoint, *, give_up: float = 60.0, stop: threading.Event | None = None
    ) -> None:
        self.endpoint = endpoint
        self.give_up = give_up
        self.stop = stop or threading.Event()
        self.requests = 0  # requests the receiver took
        self.bytes = 0  # of those requests, bytes sent
        self.retries = 0
        self._conn: http.client.HTTPConnection | None = None
        parts = urlsplit(endpoint.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {endpoint.url!r}")
        self._parts = parts
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def encode(self, request: Mapping[str, Any]) -> bytes:
        """The request's body in the endpoint's protocol."""
        if self.endpoint.protocol == JSON:
            return orjson.dumps(request)
        return _ENCODERS[self.endpoint.signal](request)

    def send(self, request: Mapping[str, Any]) -> None:
        """Send one export request of the endpoint's signal; retry as the module says, or raise."""
        self.post(self.encode(request))

    def post(self, body: bytes) -> None:
        """Post an encoded body, retrying; raises :class:`Refused` or :class:`Unreachable`."""
        content_type = (
            "application/json" if self.endpoint.protocol == JSON else ("application/x-protobuf")
        )
        headers = {**self.endpoint.headers, "Content-Type": content_type}
        payload = body
        if self.endpoint.compression == "gzip":
            payload = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        deadline = time.monotonic() + self.give_up
        backoff = FIRST_BACKOFF
        while True:
            wait: float | None
            try:
                status, answer, answer_type, retry_after = self._post(payload, headers)
            except (OSError, http.client.HTTPException) as exc:
                self._close()
                reason, wait = f"cannot reach {self.endpoint.url}: {exc}", None
            else:
                if 200 <= status < 300:
                    self.requests += 1
                    self.bytes += len(payload)
                    return
                message = _status_message(answer, answer_type)
                if status not in RETRY_STATUSES:
                    raise Refused(status, message)
                reason, wait = f"HTTP {status}: {message}", _retry_after(retry_after)
            delay = wait if wait is not None else backoff * random.uniform(0.8, 1.2)
            backoff = min(backoff * 2, MAX_BACKOFF)
            if time.monotonic() + delay > deadline or self.stop.wait(delay):
                raise Unreachable(reason, wait)
            self.retries += 1

    def _post(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes, str, str | None]:
        if self._conn is None:
            parts, timeout = self._parts, self.endpoint.timeout
            if parts.scheme == "https":
                context = ssl.create_default_context()
                self._conn = http.client.HTTPSConnection(
                    parts.hostname or "", parts.port, timeout=timeout, context=context
                )
            else:
                self._conn = http.client.HTTPConnection(
                    parts.hostname or "", parts.port, timeout=timeout
                )
        conn = self._conn
        conn.request("POST", self._path, body=body, headers=dict(headers))
        response = conn.getresponse()
        answer = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self._close()
        return (
            response.status,
            answer,
            response.getheader("Content-Type", ""),
            response.getheader("Retry-After"),
        )

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        """Close the kept-alive connection."""
        self._close()
