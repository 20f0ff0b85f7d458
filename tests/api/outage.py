"""A Temporal outage as the API sees it: a TCP proxy in front of the dev server that goes down and comes back."""

from __future__ import annotations

import asyncio
import contextlib

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment


class TemporalProxy:
    """Forwards 127.0.0.1:<port> to the dev server; ``down()`` cuts every connection and refuses new ones."""

    def __init__(self, env: WorkflowEnvironment) -> None:
        host, _, port = env.client.service_client.config.target_host.rpartition(":")
        self._target = (host, int(port))
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.close()
        await self._server.wait_closed()
        self._server = None

    async def client(self, env: WorkflowEnvironment) -> Client:
        return await Client.connect(
            f"127.0.0.1:{self.port}", namespace=env.client.namespace, data_converter=env.client.data_converter
        )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers -= {writer, up_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()
