"""Sandbox throughput over loopback: GetRewardInfo (and GetReward) against bare Starlette + uvicorn.

    .venv/bin/python tests/bench/bench_sandbox.py [rounds] [--seconds S] [--concurrency N] [--no-reward]

Three kinds of process, so that neither server shares a core's Python interpreter with the load:

- the sandbox, as users run it: ``python -m moments_desktop.sandbox --port 0 --catalog COPY`` (SandboxServer:
  uvicorn on a thread of its own, the sandbox's own ``SandboxH11Protocol``), on a copy of the built-in catalog
  whose rate limit is raised (its 5 calls a second per key would answer 429 to the load);
- the baseline: this file with ``--serve-bare``, a bare Starlette app with one POST route per endpoint that
  reads and parses the JSON body and answers ``JSONResponse`` with the very payload the sandbox answered
  (same keys, same bytes, same size), run by uvicorn in a thread of its own with the same settings as
  SandboxServer (``uvicorn.Config`` with ws none, lifespan off, access log off, no server header, no proxy
  headers, the same backlog; a socket bound the same way, TCP_NODELAY on). Protocol: uvicorn's stock
  ``H11Protocol``, the class ``SandboxH11Protocol`` derives from (httptools is not installed, so ``auto``
  would pick h11 too): what the sandbox's protocol adds (body and connection limits, deadlines) is the
  sandbox's cost and counted in its figure;
- the load: this file with ``--load``, a raw asyncio client (one ``asyncio.Protocol`` per connection, no
  HTTP library in the way) holding ``--concurrency`` HTTP/1.1 keep-alive connections, each sending the
  app's own request (``core.wire.build_request``: headers and body as the app sends them) again as soon as
  the previous answer is complete. It counts complete answers in a window of ``--seconds`` after a short
  warm-up, and every status it saw (a round with any non-200 answer stops the bench).

``--profile sandbox|bare ENDPOINT OUT`` runs one server under the same load for ``--seconds`` (default 12) and
records its serving thread with py-spy (/work/step14/pyi/bin/py-spy, or ``$PY_SPY``), then writes OUT: the
throughput, and each function's samples per 1,000 requests, inclusive and self (so the sandbox's and the bare
server's costs per request compare directly), with the collapsed stacks next to it (OUT + ``.collapsed``).

Rounds alternate sandbox and bare (``benchtable.interleaved_medians``, the order rotated each round); medians
of ``rounds`` (at least 7). The GetReward row uses the demo profile's test-mode (Approved) campaign, so no
inventory runs out and every call still writes its ledger entry. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LISTENING = "Moments sandbox listening on "  # what moments-sandbox prints; the bare server prints the same
WARMUP_SECONDS = 0.5


# --- the bare baseline server -------------------------------------------------------------------


def serve_bare(payload_file: str) -> None:
    """Serve the bare Starlette app until stdin closes (or SIGTERM)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from uvicorn.protocols.http.h11_impl import H11Protocol

    from moments_desktop.sandbox.protocol import Limits

    payloads = json.loads(Path(payload_file).read_text(encoding="utf-8"))

    def endpoint(payload: object):  # noqa: ANN202
        async def answer(request: Request) -> JSONResponse:
            await request.json()  # the body read and parsed, as any real endpoint does
            return JSONResponse(payload)

        return answer

    app = Starlette(routes=[Route(path, endpoint(payload), methods=["POST"]) for path, payload in payloads.items()])
    limits = Limits()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # as SandboxServer._bind
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=H11Protocol, ws="none", lifespan="off", access_log=False,
        log_level="warning", log_config=None, proxy_headers=False, server_header=False,
        timeout_graceful_shutdown=1, backlog=limits.accept_backlog,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign] # a thread, as SandboxServer

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve(sockets=[sock]))
        loop.close()

    thread = threading.Thread(target=run, name="bare-uvicorn", daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    print(f"{LISTENING}http://127.0.0.1:{port}", flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    server.should_exit = True
    thread.join(10)


# --- the load generator ---------------------------------------------------------------------------


class _Client(asyncio.Protocol):
    """One keep-alive connection sending ``request`` again as soon as each answer is complete."""

    def __init__(self, request: bytes, tally: dict, done: asyncio.Future):
        self.request = request
        self.tally = tally
        self.done = done
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end].lower()
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                self.tally["errors"] += 1  # not something this bench expects (chunked, close)
                self.transport.close()
                return
            line_end = head.find(b"\r\n", at + 2)
            length = int(head[at + 17:line_end if line_end >= 0 else None])
            total = end + 4 + length
            if len(buffer) < total:
                break
            status = buffer[9:12].decode()
            buffer = buffer[total:]
            if self.tally["counting"]:
                self.tally["count"] += 1
                self.tally["statuses"][status] = self.tally["statuses"].get(status, 0) + 1
            if self.tally["stop"]:
                self.transport.close()
                return
            self.transport.write(self.request)
        self.buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _cpu_seconds(pid: int | None) -> float | None:
    """The CPU time (user + system) process ``pid`` has used so far; None where /proc cannot say."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(url: str, request: bytes, seconds: float, concurrency: int, server_pid: int | None = None) -> dict:
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    loop = asyncio.get_running_loop()
    tally = {"count": 0, "statuses": {}, "errors": 0, "counting": False, "stop": False}
    dones = []
    for _ in range(concurrency):
        done = loop.create_future()
        await loop.create_connection(lambda d=done: _Client(request, tally, d), host, int(port))
        dones.append(done)
    await asyncio.sleep(WARMUP_SECONDS)
    tally["counting"] = True
    cpu_start = _cpu_seconds(server_pid)
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    tally["counting"] = False
    elapsed = time.perf_counter() - start
    cpu_end = _cpu_seconds(server_pid)
    tally["stop"] = True
    await asyncio.wait_for(asyncio.gather(*dones), 10)
    cpu = None if cpu_start is None or cpu_end is None or not tally["count"] else (cpu_end - cpu_start) / tally["count"]
    return {"rate": tally["count"] / elapsed, "statuses": tally["statuses"], "errors": tally["errors"],
            "server_cpu_per_request": cpu}


def run_load(url: str, request_file: str, seconds: float, concurrency: int, server_pid: int | None) -> None:
    request = Path(request_file).read_bytes()
    print(json.dumps(asyncio.run(_load(url, request, seconds, concurrency, server_pid))), flush=True)


# --- profiles ---------------------------------------------------------------------------------------


def summarize(collapsed: str, requests: float, top: int = 70) -> str:
    """Samples per 1,000 requests of every function in the serving thread, inclusive and self."""
    import collections

    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0

    def name(frame: str) -> str:
        function, _, where = frame.partition(" (")
        return f"{function} ({where.split(':')[0]})" if where else function

    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if "run_until_complete" not in stack:  # the serving thread only (not the main thread's wait)
            continue
        frames = [name(f) for f in stack.split(";")]
        total += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
        own[frames[-1]] += int(count)
    per = 1000 / requests
    lines = [f"{total} samples in the serving thread, {requests:,.0f} requests: {total * per:.1f} samples "
             "per 1,000 requests (at 1,000 samples/s: ms of CPU per 1,000 requests, under this machine's load)",
             "", "== inclusive, samples per 1,000 requests"]
    lines += [f"{count * per:8.1f}  {frame}" for frame, count in inclusive.most_common(top)]
    lines += ["", "== self, samples per 1,000 requests"]
    lines += [f"{count * per:8.1f}  {frame}" for frame, count in own.most_common(top)]
    return "\n".join(lines) + "\n"


def profile(which: str, endpoint_name: str, out: str, seconds: float, concurrency: int) -> None:
    from moments_desktop.api_schema import Endpoint
    from moments_desktop.core.request import RewardRequest
    from moments_desktop.core.wire import build_request
    from moments_desktop.sandbox.catalog import load_default_catalog

    spy = os.environ.get("PY_SPY", "/work/step14/pyi/bin/py-spy")
    endpoint = Endpoint(endpoint_name)
    demo = load_default_catalog().demo()
    with tempfile.TemporaryDirectory(prefix="moments-bench-sandbox-") as tmp:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        servers = _start_both(Path(tmp), env, [endpoint], only=which)
        process, url = servers[which]
        try:
            wire = build_request(RewardRequest(base_url=url, **demo.body()), endpoint, demo.api_key)
            request = Path(tmp) / "request.http"
            request.write_bytes(raw_request(wire, url.split("//", 1)[1]))
            load = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--load", url, str(request),
                                     str(seconds + 2), str(concurrency), str(process.pid)],
                                    stdout=subprocess.PIPE, text=True, env=env)
            time.sleep(1 + WARMUP_SECONDS)
            collapsed = out + ".collapsed"
            subprocess.run([spy, "record", "--pid", str(process.pid), "-d", str(int(seconds)), "-r", "1000",
                            "-f", "raw", "-o", collapsed, "--nonblocking"], check=True, capture_output=True)
            result = json.loads(load.communicate(timeout=60)[0])
        finally:
            for server, _ in servers.values():
                stop_server(server)
    text = Path(collapsed).read_text(encoding="utf-8")
    header = (f"py-spy record -r 1000 -d {int(seconds)} of the {which} server ({url}), {endpoint.path}, "
              f"{concurrency} keep-alive connections: {result['rate']:,.0f} req/s, statuses {result['statuses']}, "
              f"server CPU {result['server_cpu_per_request'] * 1e6:.0f} µs/request (whole load window)\n")
    Path(out).write_text(header + summarize(text, result["rate"] * int(seconds)), encoding="utf-8")
    print(header + f"written: {out}")


# --- the bench ---------------------------------------------------------------------------------------


def start_server(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """Start a server process (``-m`` puts its working directory first on sys.path: the checkout to run)."""
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=cwd)
    line = process.stdout.readline()
    if not line.startswith(LISTENING):
        process.kill()
        raise SystemExit(f"a server did not start: {argv} {line!r} {process.stderr.read()}")
    return process, line[len(LISTENING):].strip()


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def raw_request(wire, host_port: str) -> bytes:  # noqa: ANN001 - a WireRequest
    path = wire.url.split(host_port, 1)[1]
    lines = [f"{wire.method} {path} HTTP/1.1", f"Host: {host_port}"]
    lines += [f"{name}: {value}" for name, value in wire.headers]
    lines += [f"Content-Length: {len(wire.body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + wire.body


def _start_both(tmp: Path, env: dict[str, str], endpoints: list, only: str | None = None,
                before: str | None = None) -> dict:
    """The sandbox (on a catalog copy with the rate limit raised) and the bare server answering the payloads
    the sandbox answered: name -> (process, base URL). ``only`` keeps just one of them running."""
    from moments_desktop.core.request import RewardRequest
    from moments_desktop.core.wire import build_request
    from moments_desktop.sandbox.catalog import default_catalog_path, load_default_catalog

    catalog_data = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    catalog_data["rate_limit_per_second"] = 100_000_000
    catalog = tmp / "catalog.json"
    catalog.write_text(json.dumps(catalog_data), encoding="utf-8")
    servers = {"sandbox": start_server(
        [sys.executable, "-m", "moments_desktop.sandbox", "--port", "0", "--catalog", str(catalog)], env)}
    try:
        demo = load_default_catalog().demo()
        payloads: dict[str, object] = {}
        for endpoint in endpoints:
            wire = build_request(RewardRequest(base_url=servers["sandbox"][1], **demo.body()), endpoint, demo.api_key)
            with urllib.request.urlopen(urllib.request.Request(
                    wire.url, data=wire.body, headers=dict(wire.headers), method="POST")) as answer:
                payloads[endpoint.path] = json.loads(answer.read())
        if only == "bare":
            stop_server(servers.pop("sandbox")[0])
        if only != "sandbox":
            payload_file = tmp / "payloads.json"
            payload_file.write_text(json.dumps(payloads, ensure_ascii=False), encoding="utf-8")
            servers["bare"] = start_server(
                [sys.executable, str(Path(__file__).resolve()), "--serve-bare", str(payload_file)], env)
        if before is not None:  # the sandbox of another checkout (the base commit), same catalog copy
            servers["before"] = start_server(
                [sys.executable, "-m", "moments_desktop.sandbox", "--port", "0", "--catalog", str(catalog)],
                dict(env, PYTHONPATH=before), cwd=Path(before))
    except BaseException:
        for process, _ in servers.values():
            stop_server(process)
        raise
    return servers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rounds", nargs="?", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-reward", action="store_true", help="GetRewardInfo only")
    parser.add_argument("--before", metavar="CHECKOUT",
                        help="also run the sandbox of another checkout (e.g. the base commit's), interleaved")
    args = parser.parse_args()
    rounds = max(7, args.rounds)

    from benchtable import Goal, Row, interleaved_medians, report

    from moments_desktop.api_schema import Endpoint
    from moments_desktop.core.request import RewardRequest
    from moments_desktop.core.wire import build_request
    from moments_desktop.sandbox.catalog import load_default_catalog

    endpoints = [Endpoint.GET_REWARD_INFO] + ([] if args.no_reward else [Endpoint.GET_REWARD])
    with tempfile.TemporaryDirectory(prefix="moments-bench-sandbox-") as tmp:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        servers = _start_both(Path(tmp), env, endpoints, before=args.before)
        try:
            demo = load_default_catalog().demo()
            urls = {name: url for name, (_, url) in servers.items()}
            pids = {name: process.pid for name, (process, _) in servers.items()}
            requests: dict[tuple[str, str], Path] = {}
            for endpoint in endpoints:
                for name, url in urls.items():
                    wire = build_request(RewardRequest(base_url=url, **demo.body()), endpoint, demo.api_key)
                    path = Path(tmp) / f"{name}-{endpoint.path.strip('/')}.http"
                    path.write_bytes(raw_request(wire, url.split("//", 1)[1]))
                    requests[(name, endpoint.path)] = path

            cpu: dict[str, list[float]] = {}

            def measure(name: str, path: str):  # noqa: ANN202
                def once() -> float:
                    done = subprocess.run(
                        [sys.executable, str(Path(__file__).resolve()), "--load", urls[name],
                         str(requests[(name, path)]), str(args.seconds), str(args.concurrency), str(pids[name])],
                        capture_output=True, text=True, env=env, timeout=60 + args.seconds)
                    if done.returncode != 0:
                        raise SystemExit(f"the load for {name} {path} failed: {done.stderr[-800:]}")
                    result = json.loads(done.stdout)
                    if set(result["statuses"]) != {"200"} or result["errors"]:
                        raise SystemExit(f"{name} {path}: answers other than 200: {result}")
                    if result["server_cpu_per_request"] is not None:
                        cpu.setdefault(f"{name} {path}", []).append(result["server_cpu_per_request"])
                    return result["rate"]

                return once

            runs = {f"{name} {endpoint.path}": measure(name, endpoint.path)
                    for endpoint in endpoints for name in servers}
            medians = interleaved_medians(runs, rounds)
        finally:
            for process, _ in servers.values():
                stop_server(process)

    print(f"{rounds} rounds, interleaved, {args.seconds:g} s each, {args.concurrency} keep-alive connections")
    cpu_medians = {name: statistics.median(values) * 1e6 for name, values in cpu.items()}
    for name, value in medians.items():
        per = f"   server CPU {cpu_medians[name]:6.0f} µs/request" if name in cpu_medians else ""
        print(f"  {name:28} {value:>10,.0f} req/s{per}")
    rows = [Row("sandbox", "sandbox GetRewardInfo throughput, loopback", medians["sandbox /GetRewardInfo"],
                "req/s", Goal.ratio_at_least(0.9), "bare Starlette+uvicorn", medians["bare /GetRewardInfo"])]
    if not args.no_reward:
        rows.append(Row("sandbox", "sandbox GetReward (test mode) throughput, loopback",
                        medians["sandbox /GetReward"], "req/s", Goal.none(), "bare Starlette+uvicorn",
                        medians["bare /GetReward"]))
    if "sandbox /GetRewardInfo" in cpu_medians and "bare /GetRewardInfo" in cpu_medians:
        # Less sensitive than req/s to what else the machine runs: the server's own CPU time per answer.
        rows.append(Row("sandbox", "sandbox GetRewardInfo server CPU per request", cpu_medians["sandbox /GetRewardInfo"],
                        "µs", Goal.none(), "bare Starlette+uvicorn", cpu_medians["bare /GetRewardInfo"]))
    if args.before:
        for endpoint in endpoints:
            before = f"before {endpoint.path}"
            print(f"  {endpoint.path}: before/bare {medians[before] / medians[f'bare {endpoint.path}']:.2f}  "
                  f"after/bare {medians[f'sandbox {endpoint.path}'] / medians[f'bare {endpoint.path}']:.2f}  "
                  f"after/before {medians[f'sandbox {endpoint.path}'] / medians[before]:.2f}")
    report(rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-bare":
        serve_bare(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--profile":
        options = argparse.ArgumentParser()
        options.add_argument("profile", nargs=3, metavar=("SERVER", "ENDPOINT", "OUT"))
        options.add_argument("--seconds", type=float, default=12.0)
        options.add_argument("--concurrency", type=int, default=16)
        chosen = options.parse_args(sys.argv[1:][1:])
        profile(*chosen.profile, chosen.seconds, chosen.concurrency)
    elif len(sys.argv) > 1 and sys.argv[1] == "--load":
        run_load(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]),
                 int(sys.argv[6]) if len(sys.argv) > 6 else None)
    else:
        main()
