"""ASGI entry point: Django for HTTP, a monitored Channels consumer for websockets."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courses.settings")

from django.core.asgi import get_asgi_application

django_app = get_asgi_application()

try:
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import path

    from .consumers import EchoConsumer

    application = ProtocolTypeRouter(
        {"http": django_app, "websocket": URLRouter([path("ws/echo/", EchoConsumer.as_asgi())])}
    )
except ImportError:  # Channels not installed: HTTP only
    application = django_app
