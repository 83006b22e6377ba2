#!/bin/sh
# Measures the dense kernels of package models and OpenBLAS dgemm on the
# same machine in one run, one core each. Run from the repository root:
#
#   sh bench/kernels.sh
#
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the OpenBLAS command
# only, so OpenBLAS picks its own kernel; OPENBLAS_VERBOSE=2 prints it.
set -e
echo "# $(grep -m1 'model name' /proc/cpuinfo) $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# OpenBLAS dgemm, one thread: m n k seconds GFLOP/s"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OPENBLAS_VERBOSE=2 \
	/usr/bin/python3 bench/openblas_dgemm.py
echo "# llcflow gemmNT and the dense forward and backward pass"
GOMAXPROCS=1 go test -run '^$' -bench 'GemmNT|DenseForwardBackward' -benchtime 2s ./models/
