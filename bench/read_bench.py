"""The NumPy/pandas side of `liesweep bench`'s table-reading rows.

python3 bench/read_bench.py FILE

Reads FILE as liesweep does (a .csv with a header through pandas.read_csv,
a .npy through numpy.load), takes every column as float64 and prints one
JSON line: {"workload", "throughput" (rows/s), "unit", "final_loss" (the
sum of the values, a check that both read the same numbers), "steps"}.
"""
import json
import sys
import time

import numpy as np


def main():
    path = sys.argv[1]
    t0 = time.perf_counter()
    if path.endswith(".csv"):
        import pandas as pd

        a = pd.read_csv(path, dtype=np.float64).to_numpy()
        name = "read-csv"
    else:
        a = np.load(path).astype(np.float64, copy=False)
        name = "read-npy"
    dt = time.perf_counter() - t0
    print(json.dumps({"workload": name, "throughput": a.shape[0] / dt, "unit": "rows/s",
                      "final_loss": float(a.sum()), "steps": 1, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb():
    """VmHWM of /proc/self/status in MiB (ru_maxrss also counts the parent's peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


if __name__ == "__main__":
    main()
