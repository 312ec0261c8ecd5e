"""Helpers for the kg serve tests: start a server on loopback, send requests, read raw responses."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.message import Message
from pathlib import Path

from kg.core import bundle

DATA_FILES = [str(p) for p in bundle.data_files()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def kg_server(*options: str, log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``kg serve`` on a free loopback port with ``options``; yield its base URL and process; stop
    it after."""
    port = free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--port", str(port), *options], stdout=out, stderr=out
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/api/queries", proc)
        yield url, proc
    finally:
        proc.kill()
        proc.wait()
        if log:
            out.close()


@contextmanager
def kg_serve(*options: str, log: Path | None = None) -> Iterator[str]:
    """Run ``kg serve`` on a free loopback port with ``options``; yield its base URL; stop it after."""
    with kg_server(*options, log=log) as (url, _):
        yield url


def fetch(
    url: str,
    data: bytes | None = None,
    headers: dict | None = None,
    method: str | None = None,
    timeout: float = 30,
) -> tuple[int, Message, bytes]:
    """(status, headers, body) of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def sparql_get(base: str, query: str, accept: str = "application/sparql-results+json", **extra: str):
    """GET /sparql?query=...; ``extra`` adds more parameters."""
    params = urllib.parse.urlencode({"query": query, **extra})
    return fetch(f"{base}/sparql?{params}", headers={"Accept": accept})


def sparql_post(base: str, query: str, accept: str = "application/sparql-results+json"):
    """POST /sparql with an application/sparql-query body."""
    return fetch(
        base + "/sparql", query.encode(), {"Content-Type": "application/sparql-query", "Accept": accept}
    )


def raw(base: str, request: bytes, timeout: float = 10, limit: int = 1_000_000) -> bytes:
    """Send raw bytes on one connection; return what comes back until the server closes or goes quiet."""
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    chunks = []
    with socket.create_connection((host, port), timeout=timeout) as s:
        with suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(request)
        s.settimeout(2)
        total = 0
        while total < limit:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    return b"".join(chunks)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def peak_rss(pid: int) -> int:
    """The peak resident set (VmHWM) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise ValueError(f"no VmHWM for process {pid}")


def status_of(response: bytes) -> int:
    """The status code of the first response in raw bytes (0 if there is none)."""
    line = response.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[0].startswith(b"HTTP/") else 0


class Editor:
    """One page of the editor, recording CSP violations, script errors and requests to other hosts."""

    def __init__(self, browser: object, server: str):
        self.server = server
        self.context = browser.new_context(accept_downloads=True)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.add_init_script(
            "document.addEventListener('securitypolicyviolation', "
            "e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.sourceFile))"
        )
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        self.page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on(
            "request",
            lambda r: r.url.startswith((server, "data:")) or self.problems.append(f"request to {r.url}"),
        )

    def open(self, url: str = "/") -> None:
        self.page.goto(url if url.startswith("http") else self.server + url)
        self.page.wait_for_selector(".yasqe .CodeMirror")

    def tab(self, name: str) -> None:
        self.page.locator(
            ".tabsList .tab a", has_text=re.compile(f"^\\s*{re.escape(name)}\\s*✖?\\s*$")
        ).first.click()
        self.page.wait_for_function("n => kgEditor.getTab().getName() === n", arg=name)

    def run(self, text: str | None = None) -> None:
        """Set the text (if given) and run it with Ctrl+Enter; wait for the answer."""
        if text is not None:
            self.page.evaluate("t => { kgEditor.getTab().getYasqe().setValue(t); }", text)
        self.page.evaluate(
            "window.kgAnswered = false;"
            "kgEditor.getTab().once('queryResponse', () => { window.kgAnswered = true; }); 0"
        )
        self.page.locator(".yasqe .CodeMirror:visible").click()
        self.page.keyboard.press("Control+Enter")
        self.page.wait_for_function("() => window.kgAnswered")

    def cells(self, column: int) -> list[str]:
        """The texts of one column of the results table as shown (the current page)."""
        rows = self.page.locator(".yasr .dataTable tbody tr:visible")
        return [rows.nth(i).locator("td").nth(column).inner_text().strip() for i in range(rows.count())]

    def close(self) -> None:
        self.context.close()
