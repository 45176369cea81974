"""A webhook receiver in its own process for benchmarks: records when each POST arrived.

Run: ``python -m bench.receiver_proc PORT``. ``GET /stats`` returns the arrival times
(``time.time()``) and paths recorded since the last ``GET /reset``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

received: list[tuple[float, str]] = []


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            first, _, rest = head.partition(b"\r\n")
            method, path, _ = first.decode().split(" ", 2)
            length = 0
            for line in rest.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            if method == "POST":
                received.append((time.time(), path))
                body = b"ok"
            elif path == "/stats":
                body = json.dumps(received).encode()
            else:
                received.clear()
                body = b"reset"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=8192)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(int(sys.argv[1])))
