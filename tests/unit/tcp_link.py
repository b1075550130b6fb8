"""A TCP forwarder standing for a WAN link: `python tcp_link.py PORT TARGET_PORT` listens on
127.0.0.1:PORT (0: a port the OS chooses), prints the port it listens on, and forwards every
connection to 127.0.0.1:TARGET_PORT. Killing the process cuts the link and every connection
over it; starting it again on the same port brings the link back."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys

HOST = "127.0.0.1"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def main(port: int, target: int) -> None:
    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((HOST, port))
    server = await asyncio.start_server(forward, sock=listening)
    print(listening.getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
