#!/usr/bin/env python3
"""How many device reads ycsbc@disk needs at each row-cache share: a model.

ringdb_bench's ycsbc@disk draws YCSB's scrambled Zipfian (theta 0.99) over
--num keys. This replays the same kind of draws against two models and counts
misses (device reads of a leaf):

  block LRU   a cache of whole leaves (RocksDB's block cache of 4 KiB blocks)
  row + page  ringdb's split: an LRU of pairs (the row cache) in front of an
              LRU of leaves (the pool), each with its share of the budget

Leaves hold --per_leaf consecutive keys (a compacted tree); the pool keeps
--inner pages of the tree's upper levels resident. It is a model (LRU for
the pool's CLOCK, no inner-page misses, a pair costs --pair_bytes), meant to
show the shape: with few Gets, most misses are a key's first read, which no
cache can serve, so every share reads about the same; with many, a larger row
cache saves many reads. engine/db_cache_balance.cc cites its figures:

  python3 bench/ycsbc_share_sim.py --draws 100000
  python3 bench/ycsbc_share_sim.py --draws 1000000

Pure Python, no packages; about a minute for a million draws.
"""
import argparse
import random
from collections import OrderedDict

MASK64 = (1 << 64) - 1


def fnv1a64(x):
    # YCSB's FNV-1a over the 8 bytes of the item number (as keys.h's Fnv1a64).
    h = 0xCBF29CE484222325
    for b in range(8):
        h ^= (x >> (8 * b)) & 0xFF
        h = (h * 0x100000001B3) & MASK64
    return h


def scrambled_zipfian(n, theta, draws, seed):
    # Gray et al.'s generator, as YCSB's ZipfianGenerator and keys.h.
    zetan = sum(1 / i**theta for i in range(1, n + 1))
    zeta2 = 1 + 1 / 2**theta
    alpha = 1 / (1 - theta)
    eta = (1 - (2 / n) ** (1 - theta)) / (1 - zeta2 / zetan)
    rng = random.Random(seed)
    out = []
    for _ in range(draws):
        u = rng.random()
        uz = u * zetan
        if uz < 1:
            v = 0
        elif uz < 1 + 0.5**theta:
            v = 1
        else:
            v = int(n * (eta * u - eta + 1) ** alpha)
        out.append(fnv1a64(v) % n)
    return out


def touch(cache, key, capacity):
    """An LRU access: True on a hit; a miss inserts and evicts the oldest."""
    if key in cache:
        cache.move_to_end(key)
        return True
    if capacity > 0:
        cache[key] = True
        if len(cache) > capacity:
            cache.popitem(last=False)
    return False


def block_lru(keys, per_leaf, blocks):
    cache = OrderedDict()
    return sum(0 if touch(cache, k // per_leaf, blocks) else 1 for k in keys)


def rows_and_pages(keys, per_leaf, pairs, pages):
    rows, pool, misses = OrderedDict(), OrderedDict(), 0
    for k in keys:
        if k in rows:
            rows.move_to_end(k)
            continue
        if not touch(pool, k // per_leaf, pages):
            misses += 1
        touch(rows, k, pairs)
    return misses


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num", type=int, default=2_000_000, help="keys (--num of the bench)")
    p.add_argument("--draws", type=int, default=100_000, help="Gets (--reads of the bench)")
    p.add_argument("--theta", type=float, default=0.99)
    p.add_argument("--budget_pages", type=int, default=5665, help="the @disk budget in 4 KiB pages (22.13 MiB)")
    p.add_argument("--per_leaf", type=int, default=34, help="pairs per leaf (16 B keys, 100 B values, packed)")
    p.add_argument("--inner", type=int, default=700, help="pages of upper levels the pool keeps")
    p.add_argument("--pair_bytes", type=int, default=212, help="a pair's cost in the row cache")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    keys = scrambled_zipfian(a.num, a.theta, a.draws, a.seed)
    print(f"{a.draws} draws over {a.num} keys: {len(set(keys))} distinct keys, "
          f"{len(set(k // a.per_leaf for k in keys))} distinct leaves")
    print(f"block LRU, the whole budget: {block_lru(keys, a.per_leaf, a.budget_pages)} misses")
    for steps in (0, 8, 12, 16, 20, 24):
        row_pages = a.budget_pages * steps // 32
        pairs = row_pages * 4096 // a.pair_bytes
        pages = a.budget_pages - row_pages - a.inner
        m = rows_and_pages(keys, a.per_leaf, pairs, pages)
        print(f"row cache {steps:2d}/32 of the budget ({pairs} pairs), pool {pages} leaves: {m} misses")


if __name__ == "__main__":
    main()
