"""A project's own middleware built on debug-monitor's."""

from dm_log.django.middleware import DebugMonitorMiddleware


class ShopMonitorMiddleware(DebugMonitorMiddleware):
    """Records requests as its base does."""
