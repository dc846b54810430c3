"""The sample project as a user has it before following the README: no debug-monitor settings."""

from shop.settings import *  # noqa: F403

INSTALLED_APPS = ["shop"]
MIDDLEWARE: list[str] = []
