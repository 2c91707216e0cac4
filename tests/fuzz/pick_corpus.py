#!/usr/bin/env python3
"""Picks a corpus under a byte budget from a libFuzzer merge control file.

Usage: pick_corpus.py CONTROL_FILE BUDGET_BYTES > chosen_paths

The control file (written by `<target> -merge=1 -merge_control_file=F ...`)
lists every input and the features (FT) and coverage edges (COV) it hits.
Greedy set cover: repeatedly takes the input with the most new edges
(weighted 4) and features per byte until nothing new fits in the budget.
Prints the chosen paths, one a line, and a summary on stderr. Used by
scripts/fuzz_short.sh (FUZZ_MERGE=1) to keep tests/fuzz/corpus small.
"""
import os
import sys


def main():
    control, budget = sys.argv[1], int(sys.argv[2])
    lines = open(control).read().split("\n")
    n = int(lines[0])
    paths = lines[2:2 + n]
    features, edges = {}, {}
    for line in lines[2 + n:]:
        parts = line.split()
        if parts and parts[0] == "FT":
            features[int(parts[1])] = set(map(int, parts[2:]))
        elif parts and parts[0] == "COV":
            edges[int(parts[1])] = set(map(int, parts[2:]))
    sizes = {i: os.path.getsize(paths[i]) for i in features}
    all_features = set().union(*features.values()) if features else set()
    all_edges = set().union(*edges.values()) if edges else set()
    chosen, have_f, have_e, used = [], set(), set(), 0
    while True:
        best, best_score = None, 0.0
        for i, f in features.items():
            if i in chosen or used + sizes[i] > budget:
                continue
            gain = len(f - have_f) + 4 * len(edges.get(i, set()) - have_e)
            score = gain / (sizes[i] + 256)
            if gain > 0 and score > best_score:
                best, best_score = i, score
        if best is None:
            break
        chosen.append(best)
        have_f |= features[best]
        have_e |= edges.get(best, set())
        used += sizes[best]
    print("corpus: %d of %d inputs, %d bytes; features %d/%d, edges %d/%d" %
          (len(chosen), len(features), used, len(have_f), len(all_features),
           len(have_e), len(all_edges)), file=sys.stderr)
    for i in chosen:
        print(paths[i])
    return 0 if chosen else 1


if __name__ == "__main__":
    sys.exit(main())
