#!/usr/bin/env python3
"""SciPy side of bench/rsa: times the same work as run.mjs on the same inputs (written by run.mjs to
bench/out/rsa/) and prints one JSON object of best-of-N CPU and wall seconds and results.
Usage: scipy_ref.py OUT_DIR REPS PERMUTATIONS TASK[,TASK...]. Needs python3-scipy."""
import json
import sys
import time
import numpy as np
import scipy
from scipy.spatial.distance import pdist
from scipy.stats import kendalltau, spearmanr

out = sys.argv[1]
reps = int(sys.argv[2])
permutations = int(sys.argv[3])
human = np.load(f'{out}/human_upper.npy')
model = np.load(f'{out}/model_upper.npy')
features = np.load(f'{out}/model_features.npy')
h48 = np.load(f'{out}/human48.npy')
f48 = np.load(f'{out}/features48.npy')


def best(fn):
    """Best of `reps` runs: (CPU seconds of this process, wall seconds, result)."""
    cpu, wall, result = [], [], None
    for _ in range(reps):
        c, w = time.process_time(), time.perf_counter()
        result = fn()
        cpu.append(time.process_time() - c); wall.append(time.perf_counter() - w)
    return min(cpu), min(wall), result


def permutation_test():
    # The textbook loop: relabel the model RDM's stimuli, take the upper triangle, spearmanr.
    model48 = 1 - np.corrcoef(f48); np.fill_diagonal(model48, 0)
    iu = np.triu_indices(48, 1)
    href = h48[iu]
    observed = spearmanr(href, model48[iu]).statistic
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(permutations):
        p = rng.permutation(48)
        if abs(spearmanr(href, model48[np.ix_(p, p)][iu]).statistic) >= abs(observed):
            hits += 1
    return (hits + 1) / (permutations + 1)


res = {'scipy': scipy.__version__, 'numpy': np.__version__}
tasks = {
    'spearman': lambda: spearmanr(human, model).statistic,
    'rsa': lambda: spearmanr(human, pdist(features, 'correlation')).statistic,
    'kendall': lambda: kendalltau(human, model).statistic,
    'perm': permutation_test,
}
for name in sys.argv[4].split(','):
    cpu, wall, value = best(tasks[name])
    res[name] = {'cpu': cpu, 'wall': wall, 'value': float(value)}
print(json.dumps(res))
