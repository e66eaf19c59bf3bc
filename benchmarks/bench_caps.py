"""Peak memory of a whole `relaycheck run` against answers that never end (not a timed test).

A raw socket relay on loopback, in this process, answers every request with one of:
- ``endless``: an SSE stream that never ends (what used 3.7 GB for one item before the cap);
- ``big``: a 200 MB JSON body with a Content-Length;
- ``bomb``: a gzip body inflating to 1 GiB of zeros, compressed on the fly;
- ``small``: a short JSON answer, the floor (what a run costs anyway).
Each mode runs ``relaycheck run`` on one item in a child process with the default size cap and
prints the child's peak RSS (os.wait4), the item's violation codes, the wall time and the size
of everything written to the report directory (allure attachments, summary.json, JUnit, matrix). Target:
peak RSS under 200 MB for every mode, and the item fails with transport.too_large /
transport.decompress. Usage: python benchmarks/bench_caps.py [--modes endless,big,bomb,small]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BIG = 200 * 1024 * 1024
LIMIT_MB = 200
CASE = """\
cases:
  - id: one
    description: one answer, whatever the relay sends
    endpoint: chat
    stream: {stream}
    request:
      body: {{max_tokens: 16, messages: [{{role: user, content: hi}}]}}
"""


def _head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def endless(conn: socket.socket) -> None:
    conn.sendall(_head(content_type="text/event-stream", transfer_encoding="chunked"))
    event = b'data: {"choices": [{"delta": {"content": "' + b"x" * 8000 + b'"}}]}\n\n'
    frame = f"{len(event):x}\r\n".encode() + event + b"\r\n"
    while True:
        conn.sendall(frame)


def big(conn: socket.socket) -> None:
    conn.sendall(_head(content_type="application/json", content_length=str(BIG)))
    block = b" " * (1024 * 1024)
    for _ in range(BIG // len(block)):
        conn.sendall(block)


def bomb(conn: socket.socket) -> None:
    obj = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1024 * 1024)
    conn.sendall(_head(content_type="application/json", content_encoding="gzip", transfer_encoding="chunked"))
    for _ in range(1024):  # 1 GiB once inflated
        data = obj.compress(zeros)
        if data:
            conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    data = obj.flush()
    conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")


def small(conn: socket.socket) -> None:
    body = b'{"error": {"message": "nothing here", "type": "invalid_request_error"}}'
    conn.sendall(_head("400 Bad Request", content_type="application/json", content_length=str(len(body))) + body)


MODES: dict[str, tuple[Callable[[socket.socket], None], str]] = {
    "endless": (endless, "true"),
    "big": (big, "false"),
    "bomb": (bomb, "false"),
    "small": (small, "false"),
}


@contextmanager
def relay(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def one(conn: socket.socket) -> None:
        with conn:
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                answer(conn)
            except OSError:
                pass  # the client hung up: that is the point

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def run_mode(name: str, workdir: Path) -> dict[str, object]:
    answer, stream = MODES[name]
    case = workdir / f"{name}.yaml"
    case.write_text(CASE.format(stream=stream))
    report = workdir / f"report-{name}"
    with relay(answer) as base:
        cmd = [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "--base-url",
            base,
            "--api-key",
            "rc-bench-key-000000",
            "--models",
            "gpt-4o",
            "--cases",
            str(case),
            "--report-dir",
            str(report),
            "--progress",
            "off",
            "--",
            "-q",
            "-p",
            "no:randomly",
        ]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=workdir)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - started
    summary = json.loads((report / "summary.json").read_text()) if (report / "summary.json").is_file() else {}
    codes = sorted({v["code"] for i in summary.get("items", []) for v in i.get("violations", [])})
    return {
        "mode": name,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        "exit": os.waitstatus_to_exitcode(status),
        "codes": codes,
        "seconds": round(elapsed, 1),
        "reports_kb": round(sum(f.stat().st_size for f in report.rglob("*") if f.is_file()) / 1024),
        "tail": out.decode(errors="replace").strip().splitlines()[-1:] if not summary else [],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="endless,big,bomb,small")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="relaycheck-caps-") as tmp:
        for name in args.modes.split(","):
            row = run_mode(name, Path(tmp))
            print(json.dumps(row))
            if row["peak_rss_mb"] >= LIMIT_MB:  # type: ignore[operator]
                ok = False
            want = {"endless": "transport.too_large", "big": "transport.too_large", "bomb": "transport.decompress"}
            if name in want and want[name] not in row["codes"]:  # type: ignore[operator]
                ok = False
    print(f"target: peak RSS < {LIMIT_MB} MB per run and the item failed with its code: {'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
