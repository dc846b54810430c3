"""Every ``DM_*`` setting fed garbage: refused, replaced by its default, said once, never raised."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import dm_log
from dm_log._config import Config
from tests.conftest import read_events

ROOT = Path(__file__).resolve().parents[2]

GARBAGE = ["nan", "inf", "-inf", "1e308", "-1", "99999999999999999999", "", "  ", "é€😀", "\udcff"]
NUMBERS = {  # setting -> (Config field, default, a good value and what it becomes)
    "DM_LOG_MAX_MB": ("max_bytes", 256 * 2**20, ("8", 8 * 2**20)),
    "DM_MAX_LINE_KB": ("max_line_bytes", 1024 * 1024, ("64", 64 * 1024)),
    "DM_COMMAND_PING": ("command_ping", 30.0, ("2.5", 2.5)),
}
WORDS = {
    "DM_VALIDATE": ("validate_all", ("yes", True)),
    "DM_ALLOW_PRODUCTION": ("allow_production", ("on", True)),
    "DM_LOG_CAP_ACTION": ("cap_action", ("STOP", "stop")),
}


@pytest.mark.parametrize("value", GARBAGE)
@pytest.mark.parametrize("name", sorted(NUMBERS))
def test_a_bad_number_falls_back_to_its_default_and_is_reported(name: str, value: str) -> None:
    field, default, _ = NUMBERS[name]
    config = Config.from_env({name: value})
    assert getattr(config, field) == default
    refused = [r for r in config.refused if r.name == name]
    assert len(refused) == (0 if not value.strip() else 1), config.refused  # unset is no error


@pytest.mark.parametrize("name", sorted(NUMBERS))
def test_a_good_number_is_taken(name: str) -> None:
    field, _, (text, parsed) = NUMBERS[name]
    config = Config.from_env({name: text})
    assert getattr(config, field) == parsed and not config.refused


@pytest.mark.parametrize("value", [v for v in GARBAGE if v.strip()])
@pytest.mark.parametrize("name", sorted(WORDS))
def test_a_bad_word_falls_back_to_its_default_and_is_reported(name: str, value: str) -> None:
    field, _ = WORDS[name]
    default = getattr(Config.from_env({}), field)
    config = Config.from_env({name: value})
    assert getattr(config, field) == default
    assert [r.name for r in config.refused] == [name]


@pytest.mark.parametrize("name", sorted(WORDS))
def test_a_good_word_is_taken(name: str) -> None:
    field, (text, parsed) = WORDS[name]
    config = Config.from_env({name: text})
    assert getattr(config, field) == parsed and not config.refused


@pytest.mark.parametrize("value", GARBAGE)
def test_text_settings_take_any_text_as_printable_text(value: str) -> None:
    config = Config.from_env(
        {"DM_SERVICE": value, "DM_REDACT_KEYS": value, "DM_LOG_DIR": "/tmp/x" + value}
    )
    assert config.service and "\udcff" not in config.service
    assert all("\udcff" not in k for k in config.redact_keys)
    if "\udcff" in value:  # a folder name that is not valid UTF-8 is refused, not guessed
        assert config.log_dir is None and config.refused
    else:
        assert config.log_dir is not None


def test_huge_and_tilde_text_settings_are_refused_not_raised() -> None:
    config = Config.from_env(
        {"DM_SERVICE": "s" * 10_000, "DM_REDACT_KEYS": ",".join(["k"] * 500),
         "DM_LOG_DIR": "~no-such-user-here/logs"}
    )  # fmt: skip
    assert config.service != "s" * 10_000 and len(config.service) <= 200
    assert len(config.redact_keys) <= 100
    assert {r.name for r in config.refused} >= {"DM_SERVICE", "DM_REDACT_KEYS"}


def _import_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DM_")}
    environ.pop("PYTEST_CURRENT_TEST", None)
    environ.update(PYTHONPATH=str(ROOT), **env)
    code = "import dm_log; dm_log.metric('after.import', 1); print('imported')"
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60,
        cwd=tmp_path,
    )  # fmt: skip


ALL = ("DM_LOG_MAX_MB", "DM_MAX_LINE_KB", "DM_COMMAND_PING", "DM_VALIDATE",
       "DM_ALLOW_PRODUCTION", "DM_LOG_CAP_ACTION")  # fmt: skip


@pytest.mark.parametrize("value", ["nan", "-inf", "1e308", "-5"])
def test_import_never_raises_and_says_so_once_in_stderr_and_the_file(
    tmp_path: Path, value: str, event_validator
) -> None:
    folder = tmp_path / "logs"
    done = _import_with(tmp_path, DM_LOG_DIR=str(folder), **{n: value for n in ALL})
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr
    for name in ALL:
        assert done.stderr.count(f"dm_log: {name}=") == 1, done.stderr
    events = read_events(folder)
    assert [e["event"] for e in events[:2]] == ["process.start", "dm.config"]
    assert [e["seq"] for e in events] == list(range(len(events)))  # no line out of order
    refused = {r["name"]: r for r in events[1]["refused"]}
    assert set(refused) == set(ALL)
    assert refused["DM_LOG_MAX_MB"]["using"] == "256"
    assert any(e["event"] == "metric" for e in events)  # recording works on the defaults
    for event in events:
        assert not list(event_validator.iter_errors(event)), event


def test_import_with_recording_off_and_garbage_still_imports(tmp_path: Path) -> None:
    done = _import_with(tmp_path, DM_LOG_MAX_MB="nan", DM_MAX_LINE_KB="inf")
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr
    assert "DM_LOG_MAX_MB='nan' refused" in done.stderr


def test_configure_refuses_bad_values_like_the_environment(log_dir: Path, capsys) -> None:
    before = dm_log.configure().max_bytes
    config = dm_log.configure(max_bytes=float("nan"), cap_action="explode")
    assert config.max_bytes == before and config.cap_action in ("rotate", "stop")
    assert "max_bytes=" in capsys.readouterr().err
    dm_log.configure(refused=())


INTEGRATION = {  # integration setting -> (default, a good value and what it becomes)
    "DM_TEMPLATES": (True, ("off", False)),
    "DM_SQL_STACK": (False, ("1", True)),
    "DM_SQL_EXPLAIN_MS": (None, ("12.5", 12.5)),
    "DM_PROFILE": ("off", ("slow:250", "slow:250")),
    "DM_COMMAND_PING": (30.0, ("2.5", 2.5)),
    "DM_COMMANDS": (True, ("no", False)),
}


@pytest.mark.parametrize("value", [v for v in GARBAGE if v.strip()])
@pytest.mark.parametrize("name", sorted(INTEGRATION))
def test_an_integration_setting_from_the_environment_goes_through_the_same_parser(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    default, (good, parsed) = INTEGRATION[name]
    monkeypatch.setenv(name, value)
    assert dm_log.setting(name) == default
    monkeypatch.setenv(name, good)
    assert dm_log.setting(name) == parsed
    assert f"dm_log: {name}=" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(INTEGRATION))
def test_a_framework_setting_is_checked_when_the_environment_has_none(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    default, (good, parsed) = INTEGRATION[name]
    monkeypatch.delenv(name, raising=False)
    assert dm_log.setting(name) == default
    assert dm_log.setting(name, good) == parsed
    assert dm_log.setting(name, float("inf")) == default  # settings.DM_X = float("inf")
    monkeypatch.setenv(name, good)
    assert dm_log.setting(name, "garbage") == parsed  # the environment wins


def test_a_profile_threshold_that_is_not_a_number_is_refused() -> None:
    for value in ("slow:nan", "slow:", "slow:-5", "slow:1e400", "fast"):
        assert dm_log.setting("DM_PROFILE", value) == "off", value
