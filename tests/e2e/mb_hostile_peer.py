"""Hostile peers against the boxes of tests/e2e/lessons/boxes.md, run
inside the lab shell on `client` by e2e_middlebox_hostile.py (arguments:
the boxes' address, middle's, then the servers', server's). Each attack runs beside an honest request, which must
still be answered; one line of results per attack."""
import socket
import ssl
import sys
import threading
import time

SRV, WEB = sys.argv[1], sys.argv[2]


def honest(port):
    """One ordinary request: its status line, or the error."""
    path = f"http://{WEB}:8081/who" if port == 3128 else "/who"
    try:
        s = socket.create_connection((SRV, port), timeout=5)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
        s.close()
        return data.split(b"\r\n")[0].decode() or "empty"
    except OSError as e:
        return f"error {e.__class__.__name__}"


def gone(s, wait):
    """True when the box ends the connection within wait seconds."""
    s.settimeout(wait)
    try:
        while s.recv(4096):
            pass
        return True
    except socket.timeout:
        return False
    except OSError:
        return True


# A slow client: the head of a request, then a byte every 100 ms.
slow = socket.create_connection((SRV, 8007))
slow.sendall(b"GET /who HTTP/1.1\r\n")
during = honest(8007)
t0, closed = time.time(), False
while time.time() - t0 < 5 and not closed:
    try:
        slow.sendall(b"X")
        slow.settimeout(0.1)
        closed = slow.recv(1) == b""
    except socket.timeout:
        pass
    except OSError:
        closed = True
print("slow", "closed" if closed else "open", during, flush=True)

# Malformed requests to the forward proxy and the L7 balancer.
for port in (3128, 8007):
    s = socket.create_connection((SRV, port), timeout=5)
    s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
    answer = s.recv(4096).split(b"\r\n")[0].decode()
    print("malformed", port, answer, "closed" if gone(s, 3) else "open", honest(port), flush=True)
    s.close()

# The forward proxy sent to a server that does not speak HTTP (the broker).
s = socket.create_connection((SRV, 3128), timeout=5)
s.sendall(f"GET http://{SRV}:5000/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
print("nothttp", s.recv(4096).split(b"\r\n")[0].decode(), honest(3128), flush=True)
s.close()

# Bytes that are not TLS to the balancer that ends TLS, then a real
# TLS client.
s = socket.create_connection((SRV, 8443), timeout=5)
s.sendall(b"NOT TLS AT ALL\r\n\r\n")
closed = gone(s, 3)
s.close()
t = ssl._create_unverified_context().wrap_socket(socket.create_connection((SRV, 8443), timeout=5))
t.sendall(b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print("nottls", "closed" if closed else "open", t.recv(4096).split(b"\r\n")[0].decode(), flush=True)
t.close()

# A flood of connections (the boxes take 8 clients at most).
for port in (8004, 8007):
    flood, refused = [], 0
    for _ in range(40):
        try:
            flood.append(socket.create_connection((SRV, port)))
        except OSError:
            refused += 1 # reset before connect() even returned
    time.sleep(0.3)
    refused += sum(1 for s in flood if gone(s, 0.05))
    for s in flood:
        s.close()
    time.sleep(0.3)
    print("flood", port, refused, honest(port), flush=True)

# A peer that pipelines requests and never reads the answers.
bad = socket.socket()
bad.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
bad.connect((SRV, 8007))
burst = b"GET /who HTTP/1.1\r\nHost: x\r\n\r\n" * 4000


def pour():
    try:
        bad.sendall(burst)
    except OSError:
        pass


t = threading.Thread(target=pour, daemon=True)
t.start()
time.sleep(0.5)
during = honest(8007)
time.sleep(0.5)
print("noread", during, flush=True)
bad.close()

# The broker: a line past its 1024 bytes, and a flood past its 64
# connections, beside a subscriber that still gets its message.
pending = {}


def broker_line(s):
    """The next line from the broker on s."""
    data = pending.pop(s, b"")
    while b"\n" not in data:
        d = s.recv(4096)
        if not d:
            return data.decode().strip()
        data += d
    line, rest = data.split(b"\n", 1)
    pending[s] = rest
    return line.decode().strip()


def message(s, text):
    """The message with text, acknowledged (redeliveries of others too)."""
    while True:
        line = broker_line(s)
        if line.startswith("MSG"):
            s.sendall(f"ACK {line.split()[1]}\n".encode())
        if text in line or not line:
            return line


sub = socket.create_connection((SRV, 5000), timeout=5)
sub.sendall(b"SUB honest news\n")
broker_line(sub)
long = socket.create_connection((SRV, 5000), timeout=5)
long.sendall(b"PUB news " + b"x" * 5000 + b"\n")
cut = gone(long, 3)
flood, refused = [], 0
for _ in range(80):
    try:
        flood.append(socket.create_connection((SRV, 5000)))
    except OSError:
        refused += 1
time.sleep(0.3)
refused += sum(1 for s in flood if gone(s, 0.05))
for s in flood:
    s.close()
time.sleep(0.3)
pub = socket.create_connection((SRV, 5000), timeout=5)
pub.sendall(b"PUB news still here\n")
ok = broker_line(pub)
got = message(sub, "still here")
print("broker", "cut" if cut else "kept", refused, ok.split()[0], got, flush=True)

# A subscriber that never reads, under 600 messages of 900 bytes: the
# broker keeps 256 for it and sends no more than it can hold back.
sink = socket.socket()
sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
sink.connect((SRV, 5000))
sink.sendall(b"SUB sink flood\n")
time.sleep(0.2)
pub = socket.create_connection((SRV, 5000), timeout=5)
pub.sendall(b"".join(b"PUB flood " + b"y" * 900 + b"\n" for _ in range(600)))
time.sleep(1.0)
pub.sendall(b"PUB news after the flood\n")
time.sleep(0.3)
got = message(sub, "after the flood")
print("sink", got, flush=True)
