"""Time validate_report on clean synthetic batch statements (10k and 200k batch rows).

Run from the repository root: ``python -m benchmarks.quality_validation``. The first call
also pays for building the GX context and suites; it is reported separately.
"""

from __future__ import annotations

import statistics
import time

from shrinkage.config import CONFIG
from shrinkage.quality import validate_report
from shrinkage.quality.frames import build_check_frames
from tests.quality_helpers import big_report


def main(sizes: tuple[int, ...] = (10_000, 200_000), repeats: int = 5) -> None:
    started = time.perf_counter()
    validate_report(big_report(100))
    print(f"first call (GX context + suites): {time.perf_counter() - started:.2f} s")
    for size in sizes:
        report = big_report(size)
        rows = len(report.products) + len(report.groups) + len(report.documents) + len(report.batches)
        frames_s, total_s = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            build_check_frames(report, CONFIG)
            t1 = time.perf_counter()
            result = validate_report(report)
            t2 = time.perf_counter()
            frames_s.append(t1 - t0)
            total_s.append(t2 - t1)
        assert result.success
        median = statistics.median(total_s)
        print(f"{len(report.batches):>7} batch rows ({rows} rows in all): validate_report median {median:.3f} s "
              f"(min {min(total_s):.3f}), of which pandas check frames {statistics.median(frames_s):.3f} s; "
              f"{rows / median:,.0f} rows/s")


if __name__ == "__main__":
    main()
