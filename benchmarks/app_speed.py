"""`vhdiff app` speed: seconds until the page is served, and a 6-second motion through the API.

    python benchmarks/app_speed.py [--starts 3] [--calls 3] [--seconds 6] [--size 320]

Each start runs `vhdiff app --port P --out TMP` in a fresh process and times it until
`GET /` answers 200 (what a browser needs to show the page). The last start's app then
answers `--calls` `/motion` requests of `--seconds` seconds through gradio_client (seeds
0, 1, ...), each timed from the call to the downloaded answer (video, .glb, downloads);
the first is asked for as soon as the page is up (the motion model may still be warming
up), the others after it. Prints every figure, their medians, the app's own timings of
each answer (sample, video, npz/BVH/glTF) and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = "a person walks forward"


def _start(out: Path, size: int) -> tuple[subprocess.Popen, str, float]:
    """A running `vhdiff app`, its URL and the seconds until `GET /` answered 200."""
    from vhdiff.app.server import free_port, wait_for_page

    port = free_port()
    flags = ["--port", str(port), "--out", str(out), "--size", str(size)]
    command = [sys.executable, "-m", "vhdiff.cli", "app", *flags]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    wait_for_page(url, alive=lambda: process.poll() is None)
    return process, url, time.perf_counter() - start


def _timings(status: str) -> str:
    """The app's own timings line of an answer's status."""
    return next((line.strip() for line in status.splitlines() if "total" in line), status)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="fresh app starts to time")
    parser.add_argument("--calls", type=int, default=3, help="/motion calls to time")
    parser.add_argument("--seconds", type=float, default=6.0, help="motion length")
    parser.add_argument("--size", type=int, default=320, help="video side in pixels")
    args = parser.parse_args()
    from gradio_client import Client

    print(f"{os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="vhdiff-app-bench-") as tmp:
        pages = []
        for index in range(args.starts):
            process, url, seconds = _start(Path(tmp) / f"out{index}", args.size)
            pages.append(seconds)
            print(f"start {index + 1}: page served after {seconds:.2f} s")
            if index < args.starts - 1:
                _stop(process)
        try:
            client = Client(url, verbose=False, download_files=str(Path(tmp) / "downloads"))
            calls = []
            for seed in range(args.calls):
                start = time.perf_counter()
                *_, status = client.predict(PROMPT, args.seconds, seed, api_name="/motion")
                calls.append(time.perf_counter() - start)
                first = " (asked for as soon as the page was up)" if seed == 0 else ""
                print(
                    f"/motion {args.seconds:g} s, seed {seed}: {calls[-1]:.2f} s{first}; the app: {_timings(status)}"
                )
        finally:
            _stop(process)
    print(
        f"page served: median {statistics.median(pages):.2f} s of {args.starts} starts ({', '.join(f'{s:.2f}' for s in pages)})"
    )
    warm = calls[1:] or calls
    print(
        f"/motion {args.seconds:g} s with video ({args.size} px): median {statistics.median(warm):.2f} s of "
        f"{len(warm)} calls after the first ({', '.join(f'{s:.2f}' for s in calls)} in all)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
