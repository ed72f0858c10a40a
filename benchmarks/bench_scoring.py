"""Bulk-score 1,000,000 PHQ-9 responses and compare with a bare numpy row sum of the same array.

    uv run python benchmarks/bench_scoring.py [--responses N] [--repeats R]

Prints responses/s for both and the ratio (target: bulk scoring <= 3x the bare row sum). The
bulk scorer validates ranges and integrality, keeps missing answers as "incomplete", assigns
bands and raises the item-9 safety flag; the reference only adds numbers.
"""

import argparse
import json
import time

import numpy as np

from communitas.outcomes.bulk import score_matrix
from communitas.outcomes.definitions import get_builtin


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    phq9 = get_builtin("phq9")
    rng = np.random.default_rng(2026)
    answers = rng.integers(0, 4, size=(args.responses, len(phq9.items))).astype(np.float64)
    answers[rng.random(args.responses) < 0.02, 3] = np.nan  # 2% skip an item: incomplete
    answers[:, 9] = np.nan  # the optional difficulty item is usually left out
    scored = answers[:, :9].copy()

    bare = _best(lambda: scored.sum(axis=1), args.repeats)
    bulk = _best(lambda: score_matrix(phq9, answers), args.repeats)
    result = score_matrix(phq9, answers)
    report = {
        "responses": args.responses,
        "numpy_row_sum_s": round(bare, 4),
        "bulk_score_s": round(bulk, 4),
        "numpy_row_sum_responses_per_s": round(args.responses / bare),
        "bulk_score_responses_per_s": round(args.responses / bulk),
        "ratio_bulk_to_row_sum": round(bulk / bare, 2),
        "target_ratio": 3,
        "incomplete": int((~result.complete).sum()),
        "item9_flags": int(result.flags["phq9_item9_positive"].sum()),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
