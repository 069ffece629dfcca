"""A real WebSocket client (Debian's python3-websockets, not netcourse's
kit) for e2e_real_clients: run inside a lab host's shell.

  ws_client.py echo URL              text, binary, ping, close; prints each echo
  ws_client.py push URL LOGIN NAME   subscribes, then POSTs NAME to LOGIN with
                                     curl, and prints the notification pushed
"""
import asyncio
import subprocess
import sys

import websockets


async def echo(url):
    async with websockets.connect(url, compression=None) as ws:
        await ws.send("hello from python")
        print("text:", await ws.recv())
        await ws.send(bytes(range(8)))
        print("binary:", (await ws.recv()).hex())
        pong = await ws.ping(b"ping from python")
        await asyncio.wait_for(pong, 5)
        print("pong: ok")
        await ws.close(1000, "bye")
        print("closed:", ws.close_code)


async def push(url, login, name):
    async with websockets.connect(url, compression=None) as ws:
        subprocess.run(["curl", "-s", "-o", "/dev/null", "-d", name, login], check=True)
        print("pushed:", await asyncio.wait_for(ws.recv(), 5))


if __name__ == "__main__":
    if sys.argv[1] == "echo":
        asyncio.run(echo(sys.argv[2]))
    else:
        asyncio.run(push(*sys.argv[2:5]))
