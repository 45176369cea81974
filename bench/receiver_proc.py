"""A webhook receiver in its own process for benchmarks: records when each POST arrived.

Run: ``python -m bench.receiver_proc PORT``. ``GET /stats`` returns ``[time, path,
webhook-id]`` for each POST recorded since the last ``GET /reset`` (``time.time()``; the
webhook id is the alert's id); ``GET /count`` how many there are.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

received: list[tuple[float, str, str]] = []


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            first, _, rest = head.partition(b"\r\n")
            method, path, _ = first.decode().split(" ", 2)
            length, webhook_id = 0, ""
            for line in rest.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
                elif line[:11].lower() == b"webhook-id:":
                    webhook_id = line[11:].strip().decode()
            if length:
                await reader.readexactly(length)
            if method == "POST":
                received.append((time.time(), path, webhook_id))
                body = b"ok"
            elif path == "/stats":
                body = json.dumps(received).encode()
            elif path == "/count":
                body = str(len(received)).encode()
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
