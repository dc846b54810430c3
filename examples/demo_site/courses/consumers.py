"""A websocket consumer reported by the Channels mixin."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from dm_log.channels import DebugMonitorConsumerMixin

from .models import Course


class EchoConsumer(DebugMonitorConsumerMixin, AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        count = await database_sync_to_async(Course.objects.count)()
        await self.send(text_data=f"{text_data} ({count} courses)")

    async def disconnect(self, code: Any) -> None:
        return None
