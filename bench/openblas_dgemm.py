"""Time OpenBLAS dgemm through numpy on one thread, as the reference rate
for the dense kernels of package models.

Run with OPENBLAS_NUM_THREADS=1 and OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE
unset, so OpenBLAS picks its own kernel for the processor:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
        OPENBLAS_VERBOSE=2 /usr/bin/python3 bench/openblas_dgemm.py

Each line is "m n k seconds-per-call GFLOP/s" for C = X·Yᵀ with X m × k and
Y n × k, the product that gemmNT computes.
"""

import time

import numpy as np


def rate(m, n, k, budget=1.0):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((m, k))
    y = rng.standard_normal((n, k))
    c = np.empty((m, n))
    yt = y.T
    np.matmul(x, yt, out=c)
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            np.matmul(x, yt, out=c)
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            break
        calls *= 2
    per = elapsed / calls
    return per, 2.0 * m * n * k / per / 1e9


def main():
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            print("# %s %s kernel=%s threads=%s" % (
                info.get("internal_api"), info.get("version"),
                info.get("architecture"), info.get("num_threads")))
    except ImportError:
        print("# threadpoolctl not installed; OPENBLAS_VERBOSE=2 names the kernel")
    shapes = [
        (64, 303, 32),   # forward of 32-303-1, one block of 64 rows
        (303, 32, 64),   # weight gradient of its first layer
        (64, 64, 64),
        (256, 256, 256),
        (1000, 1000, 1000),
    ]
    for m, n, k in shapes:
        per, gflops = rate(m, n, k)
        print("%d %d %d %.3e %.2f" % (m, n, k, per, gflops))


if __name__ == "__main__":
    main()
