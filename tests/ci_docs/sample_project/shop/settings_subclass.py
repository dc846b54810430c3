"""The sample project with the middleware reached through a subclass of its own."""

from shop.settings import *  # noqa: F403

MIDDLEWARE = ["shop.middleware.ShopMonitorMiddleware"]
