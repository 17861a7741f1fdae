"""Benchmark: do the public pages cost what they show, or what the network holds? (issue 14)

Builds two generated networks (``bench/network.py``): S (100 series at 20 locations) and a
large one (by default L: 5,000 series at 1,000 locations of 150 organisations), each with a
year of history and a full occurrence index, each in a database of its own. Serves both
side by side with gunicorn (2 sync workers each, on two ports) and a third gunicorn with
the baselines (``bench/bare_app.py``: a bare Flask route and a bare Jinja page of a given
size). The requests alternate between S and the large network; per kind of request it
prints the median at S and at the large size, their ratio, the ratios to the bare route
and to a bare Jinja page of the same size, the bytes of the page, and the issue's target
next to each figure. Then the full public feed against plain ``icalendar`` building the
same events (large size), the throughput of the public pages at 16 and 32 connections as
a share of the bare route's (at S), and one worker's resident memory after the run.

    python bench/pages_bench.py [--size L] [--db sqlite|postgresql]
        [--database-url postgresql://...] [--rounds 15] [--quick]

On PostgreSQL the databases are ``<url>_s`` and ``<url>_l`` (made when missing; their
schema is rebuilt); the URL defaults to ``TEST_DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import network  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app import clock, create_app  # noqa: E402
from app.config import Defaults  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ConsultationHours, IndexedSlot, Location  # noqa: E402
from app.services import feeds, occurrence_index  # noqa: E402

MEMORY_TARGET_MB = 150
THROUGHPUT_TARGET = 0.25
PAGE_CACHE_SECONDS = Defaults.PUBLIC_PAGE_CACHE_SECONDS  # as in production
FEED_TARGET = 1.3
PUBLIC_PAGES = ("home", "list", "place", "series", "full")


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    target: float | None  # the L/S target, if it sets one


KINDS = (
    Kind("home", "start page /", 1.5),
    Kind("list", "hours list, no filter", 1.5),
    Kind("place", "hours list, one place", 1.2),
    Kind("series", "series page with free times", None),
    Kind("full", "series page, fully booked (alternatives)", 1.5),
    Kind("taken", 'booking POST "just taken" (409)', 1.5),
    Kind("feed304", "organisation feed, 304", 1.5),
    Kind("feed", "public feed of one place, full", None),
    Kind("book", "booking POST (303)", None),
)


# Servers ------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """A gunicorn with 2 sync workers serving ``module:app`` from ``bench/``."""

    def __init__(
        self, module: str, log: Path, database_url: str = "", workers: int = 2, cache: float = 0
    ):
        self.port = free_port()
        env = dict(os.environ, BENCH_DATABASE_URL=database_url, BENCH_PAGE_CACHE_SECONDS=str(cache))
        self.log = log
        with log.open("ab") as output:  # the server writes to its own copy of the file
            self.process = self._start(output, env, module, workers)

    def _start(self, output, env: dict, module: str, workers: int) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--pythonpath",
                f"{BENCH},{BENCH.parent}",
                "--timeout",
                "600",
                "--log-level",
                "warning",
                f"{module}:app",
            ],
            cwd=BENCH.parent,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, path: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: see {self.log}\n{self.log.read_text()}")
            client = Client(self.port)
            try:
                if client.request("GET", path)[0] == 200:
                    return
            except OSError:
                pass
            finally:
                client.close()
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer {path} in {timeout} s")
            time.sleep(0.1)

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker (VmRSS from /proc/<pid>/status)."""
        sizes = []
        for pid in _children(self.process.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return sizes

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: the command may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


class Client:
    """One HTTP/1.1 connection, kept alive while the server keeps it (gunicorn's sync
    workers close it after each answer; http.client then connects again)."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        if response.will_close:
            self.connection.close()
        return response.status, data, response

    def close(self) -> None:
        self.connection.close()


# What to request ----------------------------------------------------------------------------


@dataclass
class Requests:
    """One network's requests: their paths, the free times to book, the feed's ETag."""

    client: Client
    paths: dict[str, str] = field(default_factory=dict)
    free: list[tuple[int, str]] = field(default_factory=list)  # (series, slot) to book
    etag: str = ""
    bytes: dict[str, int] = field(default_factory=dict)
    booked: int = 0
    city: str = ""  # the place of the one-place list and the public feed

    def run(self, key: str) -> int:
        """Make one request of this kind; return the bytes of the answer."""
        expect = 200
        if key == "feed304":
            status, data, _ = self.client.request(
                "GET", self.paths["feed304"], headers={"If-None-Match": self.etag}
            )
            expect = 304
        elif key == "taken":
            status, data, _ = self.client.request(
                "POST", self.paths["taken"], body=urlencode({"name": "Bench", "language": "nl"})
            )
            expect = 409
        elif key == "book":
            series_id, moment = self.free[self.booked % len(self.free)]
            self.booked += 1
            status, data, _ = self.client.request(
                "POST",
                f"/spreekuren/{series_id}/afspraak?tijd={moment}",
                body=urlencode({"name": "Bench", "language": "nl"}),
            )
            expect = 303
        else:
            status, data, _ = self.client.request("GET", self.paths[key])
        if status != expect:
            raise AssertionError(f"{key}: {status} (expected {expect})\n{data[:2000]!r}")
        return len(data)


def _slot_param(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def discover(net: network.Network, port: int, bookings: int) -> Requests:
    """Find in the network what each kind of request asks for."""
    app = create_app(network.config(net.url))
    requests = Requests(Client(port))
    with app.app_context():
        now = clock.now()
        full = db.session.scalar(
            sa.select(ConsultationHours).where(ConsultationHours.title == network.FULL_TITLE)
        )
        full_slot = db.session.scalar(
            sa.select(IndexedSlot.starts_at)
            .where(IndexedSlot.series_id == full.id, IndexedSlot.closes_at >= now)
            .order_by(IndexedSlot.starts_at)
        )
        free = db.session.execute(
            occurrence_index.free_slots_query(now)
            .where(IndexedSlot.series_id != full.id)
            .limit(max(bookings, 1) * 4)
        ).all()
        # The series page with free times: of the series with the earliest free times, the
        # first by id.
        series_id = min(row.series_id for row in free)
        city = db.session.scalar(
            sa.select(Location.city)
            .join(ConsultationHours, ConsultationHours.location_id == Location.id)
            .where(ConsultationHours.id == series_id)
        )
        # One booking per free time, never two in one slot: each POST books a free seat.
        seen = set()
        for row in free:
            if (row.series_id, row.starts_at) not in seen and len(seen) < max(bookings, 1):
                seen.add((row.series_id, row.starts_at))
                requests.free.append((row.series_id, _slot_param(row.starts_at)))
        network.close()
    requests.paths = {
        "home": "/",
        "list": "/spreekuren",
        "place": "/spreekuren?" + urlencode({"plaats": city}),
        "series": f"/spreekuren/{series_id}",
        "full": f"/spreekuren/{full.id}",
        "taken": f"/spreekuren/{full.id}/afspraak?tijd={_slot_param(full_slot)}",
        "feed304": f"/feeds/{net.feed_token}.ics",
        "feed": f"/agenda/plaats/{quote(city)}.ics",
    }
    status, _data, response = requests.client.request("GET", requests.paths["feed304"])
    assert status == 200, status
    requests.etag = response.getheader("ETag")
    requests.city = city
    return requests


def plain_feed_ms(net: network.Network, city: str, rounds: int) -> tuple[float, int]:
    """Plain ``icalendar`` building the events of the place's public feed (median)."""
    app = create_app(network.config(net.url))
    with app.test_request_context():
        feed = feeds.place_feed(city, "nl")
        window = feeds.Window.current()
        covered = feeds._load(feed, None, window)
        events = feeds._Builder(feed, covered, window).events()
        stamp = datetime.now(UTC)
        name = f"Spreekuren in {city}"
        result = network.median_ms(lambda: network.plain_icalendar(events, name, stamp), rounds)
        network.close()
    return result, len(events)


# Measuring ----------------------------------------------------------------------------------


def timed_ms(fn) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000, value


@dataclass
class Report:
    small: str
    large: str
    rounds: int
    medians: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> S, L, ...
    bytes: dict[str, dict[str, int]] = field(default_factory=dict)
    bare_ms: float = 0.0
    feed_events: int = 0
    plain_feed_ms: float = 0.0
    throughput: dict[int, dict[str, float]] = field(default_factory=dict)
    worker_rss_mb: list[float] = field(default_factory=list)
    built: list[str] = field(default_factory=list)


def measure(small: Requests, large: Requests, bare: Client, rounds: int, report: Report) -> None:
    """Medians per kind, S and the large size alternating request by request, with the bare
    route and bare Jinja pages of the same sizes in between."""
    sides = {"S": small, "L": large}
    for requests in sides.values():  # both workers of each server see each kind once
        for kind in KINDS:
            for _ in range(2):
                requests.bytes[kind.key] = requests.run(kind.key)
    for key in ("S", "L"):
        for kind in KINDS:
            report.bytes.setdefault(kind.key, {})[key] = sides[key].bytes[kind.key]
    samples: dict[str, dict[str, list[float]]] = {
        kind.key: {"S": [], "L": [], "jinja S": [], "jinja L": []} for kind in KINDS
    }
    bare_times = []
    for _ in range(rounds):
        for kind in KINDS:
            for side, requests in sides.items():
                ms, _size = timed_ms(lambda r=requests, k=kind.key: r.run(k))
                samples[kind.key][side].append(ms)
                size = report.bytes[kind.key][side]
                ms, _ = timed_ms(lambda s=size: bare.request("GET", f"/jinja?bytes={s}"))
                samples[kind.key][f"jinja {side}"].append(ms)
            ms, _ = timed_ms(lambda: bare.request("GET", "/bare"))
            bare_times.append(ms)
    report.bare_ms = statistics.median(bare_times)
    report.medians = {
        key: {side: statistics.median(values) for side, values in by_side.items()}
        for key, by_side in samples.items()
    }


def throughput(port: int, paths: list[str], connections: int, seconds: float) -> float:
    """Answers per second of ``connections`` clients requesting ``paths`` in turn."""
    deadline = time.monotonic() + seconds
    counts = [0] * connections
    errors: list[str] = []

    def client(n: int) -> None:
        http = Client(port)
        i = n
        try:
            while time.monotonic() < deadline:
                status, _data, _ = http.request("GET", paths[i % len(paths)])
                if status != 200:
                    errors.append(f"{paths[i % len(paths)]}: {status}")
                    return
                counts[n] += 1
                i += 1
        except OSError as error:
            errors.append(str(error))
        finally:
            http.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise AssertionError(errors[:3])
    return sum(counts) / (time.monotonic() - started)


def run(
    small: network.Network,
    large: network.Network,
    *,
    rounds: int,
    seconds: float,
    connections: tuple[int, ...],
    workdir: Path,
) -> Report:
    """Serve both networks and the baselines with gunicorn; measure; stop the servers."""
    report = Report(small=small.size.name, large=large.size.name, rounds=rounds)
    report.built = [small.summary(), large.summary()]
    servers = {
        "S": Gunicorn("serve", workdir / "gunicorn-s.log", small.url),
        "L": Gunicorn("serve", workdir / "gunicorn-l.log", large.url),
        "bare": Gunicorn("bare_app", workdir / "gunicorn-bare.log"),
        # S as production serves it: with the short-lived cache of public pages.
        "S cached": Gunicorn(
            "serve", workdir / "gunicorn-s-cached.log", small.url, cache=PAGE_CACHE_SECONDS
        ),
    }
    clients: list[Client] = []
    try:
        for name, server in servers.items():
            server.wait_ready("/bare" if name == "bare" else "/privacy")
        bookings = rounds + 4
        small_requests = discover(small, servers["S"].port, bookings)
        large_requests = discover(large, servers["L"].port, bookings)
        bare = Client(servers["bare"].port)
        clients += [small_requests.client, large_requests.client, bare]
        measure(small_requests, large_requests, bare, rounds, report)
        report.worker_rss_mb = servers["L"].worker_rss_mb()
        report.plain_feed_ms, report.feed_events = plain_feed_ms(
            large, large_requests.city, max(rounds, 3)
        )
        pages = [small_requests.paths[key] for key in PUBLIC_PAGES]
        for n in connections:
            report.throughput[n] = {
                "bare": throughput(servers["bare"].port, ["/bare"], n, seconds),
                "pages": throughput(servers["S"].port, pages, n, seconds),
                "cached": throughput(servers["S cached"].port, pages, n, seconds),
            }
            for key in PUBLIC_PAGES:
                report.throughput[n][key] = throughput(
                    servers["S"].port, [small_requests.paths[key]], n, seconds
                )
    finally:
        for client in clients:
            client.close()
        for server in servers.values():
            server.stop()
    return report


# Printing -----------------------------------------------------------------------------------


def verdict(value: float, target: float | None, *, at_least: bool = False) -> str:
    if target is None:
        return ""
    passed = value >= target if at_least else value <= target
    sign = ">=" if at_least else "<="
    shown = f"{target:.0%}" if at_least and target < 1 else f"{target:g}"
    return f"target {sign} {shown}: {'pass' if passed else 'MISS'}"


def print_report(report: Report, database: str, out=sys.stdout) -> None:
    s, big = report.small, report.large
    w = out.write
    w(f"Public pages at two sizes ({database}; gunicorn, 2 sync workers per network; ")
    w(f"medians of {report.rounds} requests each, {s} and {big} alternating)\n")
    for line in report.built:
        w(f"  {line}\n")
    w(f"  bare Flask route: {report.bare_ms:.2f} ms\n")
    w(
        f"  {'request':<42} {s + ' ms':>9} {big + ' ms':>9} {big + '/' + s:>7}"
        f"  {'target':<20} {s + '/bare':>7} {s + '/jinja':>8} {big + '/jinja':>8}"
        f" {'bytes ' + s:>10} {'bytes ' + big:>10}\n"
    )
    for kind in KINDS:
        m = report.medians[kind.key]
        ratio = m["L"] / m["S"]
        size = report.bytes[kind.key]
        w(
            f"  {kind.label:<42} {m['S']:9.2f} {m['L']:9.2f} {ratio:6.2f}x"
            f"  {verdict(ratio, kind.target):<20} {m['S'] / report.bare_ms:6.1f}x"
            f" {m['S'] / m['jinja S']:7.1f}x {m['L'] / m['jinja L']:7.1f}x"
            f" {size['S']:10,} {size['L']:10,}\n"
        )
    feed = report.medians["feed"]["L"]
    feed_ratio = feed / report.plain_feed_ms
    w(
        f"  public feed of one place at {big} ({report.feed_events} events, "
        f"{report.bytes['feed']['L']:,} bytes): {feed:.1f} ms over HTTP; plain icalendar "
        f"builds the same events in {report.plain_feed_ms:.1f} ms: "
        f"{feed_ratio:.2f}x ({verdict(feed_ratio, FEED_TARGET)})\n"
    )
    w(f"  throughput at {s} (answers per second; public pages as a share of the bare route)\n")
    for n, by_key in report.throughput.items():
        bare = by_key["bare"]
        shares = ", ".join(
            f"{key} {by_key[key]:.0f}/s = {by_key[key] / bare:.1%}" for key in PUBLIC_PAGES
        )
        share = by_key["pages"] / bare
        cached = by_key["cached"] / bare
        w(
            f"    {n:>2} connections: bare route {bare:.0f}/s; public pages in turn, with the "
            f"page cache ({PAGE_CACHE_SECONDS:g} s, as in production) {by_key['cached']:.0f}/s "
            f"= {cached:.1%} ({verdict(cached, THROUGHPUT_TARGET, at_least=True)}); "
            f"made on every request {by_key['pages']:.0f}/s = {share:.1%}\n"
            f"       each, made on every request: {shares}\n"
        )
    if report.worker_rss_mb:
        largest = max(report.worker_rss_mb)
        sizes = ", ".join(f"{mb:.0f}" for mb in report.worker_rss_mb)
        w(
            f"  resident memory of the {big} workers after the run: {sizes} MB "
            f"({verdict(largest, MEMORY_TARGET_MB)})\n"
        )


def machine() -> str:
    """nproc, the CPU model, RAM and the versions, for the README's table."""
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    ram = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    return f"{os.cpu_count()} CPUs ({model}), {ram}, Python {platform.python_version()}"


def database_version(url: str) -> str:
    engine = sa.create_engine(network.normalise_database_url(url))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            version = conn.scalar(sa.text("SHOW server_version"))
            name = "PostgreSQL"
        else:
            version = conn.scalar(sa.text("SELECT sqlite_version()"))
            name = "SQLite"
    engine.dispose()
    return f"{name} {version}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("M", "L"), default="L", help="the large network")
    parser.add_argument("--db", choices=("sqlite", "postgresql"))
    parser.add_argument("--database-url", help="PostgreSQL URL (default: TEST_DATABASE_URL)")
    parser.add_argument("--rounds", type=int, help="requests per kind and size (15; quick: 5)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="few rounds, 2 s per throughput figure (for a shared machine)",
    )
    args = parser.parse_args()
    rounds = args.rounds or (5 if args.quick else 15)
    seconds = 2.0 if args.quick else 5.0
    base = args.database_url or (
        os.environ.get("TEST_DATABASE_URL") if args.db == "postgresql" else None
    )
    if args.db == "postgresql" and not base:
        parser.error("--db postgresql needs --database-url or TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if base:
            urls = (f"{base}_s", f"{base}_{args.size.lower()}")
        else:
            urls = (f"sqlite:///{workdir}/s.db", f"sqlite:///{workdir}/{args.size.lower()}.db")
        print("Building the networks...", file=sys.stderr)
        small = network.build(urls[0], network.SIZES["S"])
        large = network.build(urls[1], network.SIZES[args.size])
        report = run(
            small, large, rounds=rounds, seconds=seconds, connections=(16, 32), workdir=workdir
        )
        database = database_version(urls[0])
    print_report(report, database)
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
