"""Start and stop real triple stores on loopback for tests and benchmarks: Virtuoso (the Debian
package ``virtuoso-opensource``) and Oxigraph server (the ``oxigraph`` pip package).

Each runs in a temporary folder of its own (database, log, configuration) on free loopback ports and
is stopped, by its own process id, when the ``with`` block ends. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"
# The user kg writes as (Digest auth on /sparql-auth and /sparql-graph-crud-auth) and its password.
WRITER, WRITER_PASSWORD = "kgwriter", "kg-test-secret"


@dataclass
class Store:
    """A running store: its endpoints and the credentials of a user who may write."""

    name: str
    query: str  # SPARQL query endpoint (anonymous reads)
    update: str  # SPARQL Update endpoint (the writer's)
    store: str  # Graph Store Protocol endpoint (the writer's)
    user: str | None = None
    password: str | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, seconds: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{url}: the server stopped (status {proc.returncode}) {detail}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url}: no answer within {seconds:g} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def missing(name: str) -> str | None:
    """Why the store ``name`` cannot be started here, or None if it can."""
    if name == "virtuoso":
        for binary in (VIRTUOSO, ISQL):
            if shutil.which(binary) is None:
                return f"{binary} is not installed (apt-get install virtuoso-opensource)"
        return None
    if name == "oxigraph":
        return None if _oxigraph() else "the oxigraph server is not installed (pip install oxigraph)"
    return f"unknown store {name}"


def _oxigraph() -> str | None:
    here = Path(sys.executable).parent / "oxigraph"
    return str(here) if here.exists() else shutil.which("oxigraph")


_VIRTUOSO_INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
AllowOSCalls = 0
DirsAllowed = ., {dir}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {dir}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
EnabledDavVSP = 0
HTTPProxyEnabled = 0

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 600
"""

# the writer may update over SPARQL (and so use the Graph Store endpoint); anonymous users only read
_VIRTUOSO_SETUP = f"""
DB.DBA.USER_CREATE ('{WRITER}', '{WRITER_PASSWORD}');
GRANT SPARQL_UPDATE TO "{WRITER}";
GRANT EXECUTE ON DB.DBA.SPARQL_INSERT_DICT_CONTENT TO "{WRITER}";
GRANT EXECUTE ON DB.DBA.SPARQL_DELETE_DICT_CONTENT TO "{WRITER}";
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 1);
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('{WRITER}', 3);
"""


@contextmanager
def virtuoso(max_rows: int = 10_000_000, buffers: int = 170_000) -> Iterator[Store]:
    """A Virtuoso server in a temporary database folder, on free loopback ports."""
    why = missing("virtuoso")
    if why:
        raise RuntimeError(why)
    folder = Path(tempfile.mkdtemp(prefix="kg-virtuoso-"))
    sql, http = _free_port(), _free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(
        _VIRTUOSO_INI.format(
            dir=folder, sql=sql, http=http, max_rows=max_rows, buffers=buffers, dirty=buffers * 3 // 4
        )
    )
    log = folder / "virtuoso.log"
    proc = subprocess.Popen(
        [VIRTUOSO, "+foreground", "+configfile", str(ini)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{http}"
        _wait(f"{base}/sparql?query=ASK%7B%7D", proc, 120, log)
        setup = subprocess.run(
            [ISQL, f"127.0.0.1:{sql}", "dba", "dba"],
            input=_VIRTUOSO_SETUP,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if setup.returncode != 0 or "Error" in setup.stdout + setup.stderr:
            raise RuntimeError(f"Virtuoso set-up failed: {setup.stdout} {setup.stderr}")
        yield Store(
            "virtuoso",
            query=f"{base}/sparql",
            update=f"{base}/sparql-auth",
            store=f"{base}/sparql-graph-crud-auth",
            user=WRITER,
            password=WRITER_PASSWORD,
        )
    finally:
        _stop(proc)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def oxigraph() -> Iterator[Store]:
    """An Oxigraph server (``oxigraph serve``) on a temporary database folder, on a free loopback port."""
    binary = _oxigraph()
    if binary is None:
        raise RuntimeError(missing("oxigraph"))
    folder = Path(tempfile.mkdtemp(prefix="kg-oxigraph-"))
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/query?query=ASK%7B%7D", proc, 60)
        yield Store("oxigraph", query=f"{base}/query", update=f"{base}/update", store=f"{base}/store")
    finally:
        _stop(proc)
        shutil.rmtree(folder, ignore_errors=True)
