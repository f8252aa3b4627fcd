"""Preview → image painted, and the window's longest pause while a big reward image arrives.

    QT_QPA_PLATFORM=offscreen python tests/bench/bench_preview.py [rounds]

Everything on the figure's side is the real app: a MainWindow on a SessionBridge and Session with the real
embedded sandbox on 127.0.0.1 (its catalog's images served from a folder of our own: the shipped 600×400 PNG
for the first row, a 4 MB 4000×3000 JPEG or a 4 MB 4000×3000 PNG, answered after the sandbox's own 2 s
``latency`` fault on its images, for the others). "Preview reward" is clicked; the figure ends when the
reward card's image label paints with the image in it. Previews are PACE_S apart, so the client's rate
limiter (5 calls per 1.1 s per key) never holds one back: the figure is the path's time, as a person meets it.

Baselines, measured in the same run, interleaved (tests/bench/benchtable.py):
- preview → image painted: a plain ``httpx.AsyncClient`` POST GetRewardInfo + GET rewardImageUrl +
  ``QImage.fromData`` in the same qasync loop, against the same sandbox;
- the longest UI-thread gap: a 2 ms heartbeat QTimer's longest gap between two ticks during the whole
  preview (click → image painted, then 100 ms), against the same window sitting idle as long.
Nothing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx  # noqa: E402
import qasync  # noqa: E402
from benchtable import Goal, Row, report  # noqa: E402
from memory_keyring import MemoryKeyring  # noqa: E402 - tests/memory_keyring.py
from PySide6.QtCore import QBuffer, QEvent, QIODevice, QObject, QRect, Qt, QTimer, qInstallMessageHandler  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from moments_desktop.core.credentials import CredentialStore  # noqa: E402
from moments_desktop.core.http import make_client  # noqa: E402
from moments_desktop.core.journal import Journal  # noqa: E402
from moments_desktop.core.profiles import ProfileStore  # noqa: E402
from moments_desktop.core.session import EmbeddedSandbox, Session  # noqa: E402
from moments_desktop.sandbox.admin import SandboxAdmin  # noqa: E402
from moments_desktop.sandbox.catalog import default_catalog_path, parse_catalog  # noqa: E402
from moments_desktop.sandbox.server import SandboxServer  # noqa: E402
from moments_desktop.ui.bridge import SessionBridge  # noqa: E402
from moments_desktop.ui.main_window import MainWindow  # noqa: E402

BENCH = "preview"
HEARTBEAT_MS = 2
LATENCY_S = 2.0
PACE_S = 0.25  # between two previews: more than the limiter's 1.1 s / 5 calls
BIG = (4000, 3000)
QUADRANTS = (QColor(220, 30, 30), QColor(30, 200, 40), QColor(30, 40, 220), QColor(240, 240, 240))


def big_image(fmt: str) -> bytes:
    """A 4000×3000 picture of four coloured quadrants under noise, about 4 MB as JPEG or PNG."""
    width, height = BIG
    image = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    for n, colour in enumerate(QUADRANTS):
        painter.fillRect(QRect((n % 2) * width // 2, (n // 2) * height // 2, width // 2, height // 2), colour)
    # Noise (incompressible) over the whole JPEG, faint; over a band of the PNG, full strength.
    opacity, band = (0.25, height) if fmt == "JPEG" else (1.0, int(height * 0.12))
    noise = QImage(os.urandom(width * band * 3), width, band, width * 3, QImage.Format.Format_RGB888)
    painter.setOpacity(opacity)
    painter.drawImage(0, 0, noise)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, fmt, 85 if fmt == "JPEG" else -1)
    return bytes(buffer.data())


def sandbox_serving(image_name: str | None, folder: Path) -> SandboxServer:
    """The shipped catalog (rate limit raised), every reward's image ``image_name`` from ``folder`` if given."""
    data = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    data["rate_limit_per_second"] = 10_000
    if image_name is not None:
        for reward in data["rewards"]:
            reward["image"] = image_name
    shipped = default_catalog_path().parent / "rewards"
    catalog = parse_catalog(data, image_dirs=[folder, shipped])
    server = SandboxServer(catalog=catalog)
    server.demo = catalog.demo()
    return server


class PaintWatch(QObject):
    """When the reward card's image label next paints with an image in it."""

    def __init__(self, label) -> None:
        super().__init__()
        self.label = label
        self.painted_at: float | None = None
        label.installEventFilter(self)

    def arm(self) -> None:
        self.painted_at = None

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if (event.type() == QEvent.Type.Paint and self.painted_at is None
                and not self.label.pixmap().isNull()):
            self.painted_at = time.perf_counter()
        return False


class Heartbeat:
    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.worst = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def start(self) -> None:
        self.last, self.worst = time.perf_counter(), 0.0
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self._tick()
        return self.worst


async def until(predicate, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not get there")
        await asyncio.sleep(0.001)


class App:
    """One window on one sandbox."""

    def __init__(self, server: SandboxServer, tmp: Path) -> None:
        self.server = server
        demo = server.demo
        tmp.mkdir(exist_ok=True)
        self.demo_key, self.demo_body = demo.api_key, demo.body()
        self.profiles = ProfileStore(tmp / "profiles.json")
        self.journal = Journal(tmp / "journal.sqlite3")
        self.session = Session(self.profiles, CredentialStore(MemoryKeyring()), self.journal, make_client(),
                               sandbox=EmbeddedSandbox(server.base_url, demo.api_key, admin_token=server.admin_token))
        self.bridge = SessionBridge(self.session)
        self.window = MainWindow(self.bridge)
        self.window.resize(1200, 800)
        self.window.show()
        self.panel = self.window.preview_panel
        self.watch = PaintWatch(self.panel.image_label)
        self.heartbeat = Heartbeat()
        self.plain = httpx.AsyncClient()

    async def preview_once(self) -> float:
        """Click "Preview reward"; seconds until the image label painted with the image."""
        await until(lambda: not self.bridge.busy and self.window.preview_button.isEnabled())
        self.panel.image_label.clear()
        # At a person's pace: the client's limiter (5 calls per 1.1 s per key, as the API documents) would
        # otherwise hold back a preview sent within a fifth of a second of the last ones, which is not the
        # path's own time.
        await asyncio.sleep(PACE_S)
        self.watch.arm()
        started = time.perf_counter()
        self.window.preview_button.click()
        await until(lambda: self.watch.painted_at is not None)
        elapsed = self.watch.painted_at - started
        await until(lambda: not self.bridge.busy)
        return elapsed

    async def plain_once(self) -> float:
        """The same-loop baseline: POST GetRewardInfo, GET its image, decode it."""
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        answer = await self.plain.post(f"{self.server.base_url}/GetRewardInfo", json=self.demo_body,
                                       headers={"x-api-key": self.demo_key})
        image_url = answer.json()["rewardImageUrl"]
        data = (await self.plain.get(image_url)).content
        image = QImage.fromData(data)
        elapsed = time.perf_counter() - started
        assert not image.isNull()
        return elapsed

    async def gap_during_preview(self) -> float:
        await until(lambda: not self.bridge.busy)
        self.panel.image_label.clear()
        await asyncio.sleep(0.05)
        self.watch.arm()
        self.heartbeat.start()
        self.window.preview_button.click()
        await until(lambda: self.watch.painted_at is not None, timeout=30)
        await asyncio.sleep(0.1)
        gap = self.heartbeat.stop()
        await until(lambda: not self.bridge.busy)
        return gap

    async def gap_idle(self) -> float:
        await asyncio.sleep(0.05)
        self.heartbeat.start()
        await asyncio.sleep(LATENCY_S + 0.3)
        return self.heartbeat.stop()

    async def aclose(self) -> None:
        await self.plain.aclose()
        self.window.discard_all_edits()
        self.window.close()
        await self.window.aclose()


async def measure(runs: dict, rounds: int) -> dict[str, float]:
    """benchtable.interleaved_medians for coroutine functions: each sample is awaited in this loop, in the same
    rotated turns (none always goes first), ``rounds`` times; the median of each."""
    names = list(runs)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            samples[name].append(await runs[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


async def bench(tmp: Path, rounds: int) -> list[Row]:
    rows: list[Row] = []
    folder = tmp / "images"
    folder.mkdir()
    (folder / "big.jpg").write_bytes(big_image("JPEG"))
    (folder / "big.png").write_bytes(big_image("PNG"))
    sizes = {name: (folder / name).stat().st_size / 2**20 for name in ("big.jpg", "big.png")}
    print(f"images: big.jpg {sizes['big.jpg']:.1f} MiB, big.png {sizes['big.png']:.1f} MiB, {BIG[0]}×{BIG[1]}")

    # 1. preview → image painted, the shipped 600×400 PNG, no latency.
    with sandbox_serving(None, folder) as server:
        app = App(server, tmp / "small")
        try:
            await app.preview_once()  # warm: connections, first paint of the card
            await app.plain_once()
            medians = await measure({"app": app.preview_once, "plain": app.plain_once}, max(rounds, 7) * 2)
        finally:
            await app.aclose()
    rows.append(Row(BENCH, "preview → image painted, embedded sandbox", medians["app"] * 1e3, "ms",
                    Goal.ratio_at_most(1.3), "httpx POST+GET+decode, same loop", medians["plain"] * 1e3))

    # 2, 3. the longest UI gap while a 4 MB image arrives after 2 s.
    for name, label in (("big.jpg", "JPEG"), ("big.png", "PNG")):
        with sandbox_serving(name, folder) as server:
            app = App(server, tmp / name)
            with SandboxAdmin(server.base_url, server.admin_token) as admin:
                admin.add_fault("images", "latency", seconds=LATENCY_S)
            try:
                await app.gap_during_preview()  # warm
                medians = await measure({"preview": app.gap_during_preview, "idle": app.gap_idle}, max(rounds, 7))
            finally:
                await app.aclose()
        rows.append(Row(BENCH, f"longest UI gap, preview of a 4 MB 4000×3000 {label}, {LATENCY_S:g} s latency",
                        medians["preview"] * 1e3, "ms", Goal.value_at_most(16, "ms"), "idle app",
                        medians["idle"] * 1e3))
    return rows


def quiet_offscreen_noise(mode, context, message: str) -> None:
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def main() -> None:
    qInstallMessageHandler(quiet_offscreen_noise)
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    rounds = int(args[0]) if args else 7
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MOMENTS_DESKTOP_HOME"] = str(Path(tmp) / "home")
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            rows = runner.run(bench(Path(tmp), rounds))
    report(rows)


if __name__ == "__main__":
    main()
