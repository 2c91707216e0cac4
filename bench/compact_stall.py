#!/usr/bin/env python3
"""How long a writer waits while DB.compact() runs.

Loads N keys (16-digit, 100-byte values) in random order, reopens, and runs
compact() while another thread puts keys one at a time; prints the compact
time, the puts done and the slowest put. Through the Python package (ctypes
releases the GIL during each call, so the two threads run at once).

    RINGDB_LIBRARY=build/libringdb.so PYTHONPATH=python \\
      python3 bench/compact_stall.py /tmp/stall_db 1000000 256MiB
"""
import random
import shutil
import sys
import threading
import time

import ringdb


def main():
    path, n, pool = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    shutil.rmtree(path, ignore_errors=True)
    keys = list(range(n))
    random.Random(1).shuffle(keys)
    with ringdb.open(path, pool=pool, lock_memory=False) as d:
        for i in keys:
            d[b"%016d" % i] = b"v" * 100
    with ringdb.open(path, pool=pool, lock_memory=False) as d:
        stop = False
        latencies = []

        def writer():
            j = 0
            while not stop:
                t = time.perf_counter()
                d[b"w%015d" % (j % 100000)] = b"x" * 100
                latencies.append(time.perf_counter() - t)
                j += 1

        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(0.5)
        t0 = time.perf_counter()
        d.compact()
        t1 = time.perf_counter()
        time.sleep(0.2)
        stop = True
        thread.join()
        latencies.sort()
        print(f"compact {t1 - t0:.2f} s; puts {len(latencies)}; "
              f"max put {latencies[-1] * 1000:.1f} ms; "
              f"p99.9 {latencies[int(len(latencies) * 0.999)] * 1000:.2f} ms")
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
