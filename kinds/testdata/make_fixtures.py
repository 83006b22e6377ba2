#!/usr/bin/env python3
"""Write the data and weights fixtures of the kinds tests.

Run from this directory with a Python that has NumPy (Debian's python3
with python3-numpy):

    python3 make_fixtures.py

Every value is a multiple of 1/16 in [-2, 2), exact in float32 and float64,
so the Go tests can recompute the expected arrays from the same formulas:

    X[i, j] = ((7·i + 3·j) mod 64)/16 − 2          (40 × 3)
    Y[i, 0] = ((5·i) mod 64)/16 − 2                (40 × 1)
    label[i] = i mod 3
    weight value v = ((11·k) mod 64)/16 − 2 for the k-th parameter of the
    [3, 4, 1] MLP with biases in llcflow's layout (layers.0.weight,
    layers.0.bias, layers.1.weight, layers.1.bias).

The safetensors file is written by hand (an 8-byte little-endian header
length, the JSON header, the raw little-endian data), so the fixtures do not
depend on the safetensors package.
"""
import json
import struct

import numpy as np

N, IN = 40, 3


def data():
    i = np.arange(N)[:, None]
    j = np.arange(IN)[None, :]
    x = ((7 * i + 3 * j) % 64) / 16 - 2
    y = (((5 * np.arange(N)) % 64) / 16 - 2)[:, None]
    labels = np.arange(N) % 3
    return x, y, labels


def weights():
    shapes = [("layers.0.weight", (4, 3)), ("layers.0.bias", (4,)),
              ("layers.1.weight", (1, 4)), ("layers.1.bias", (1,))]
    out, k = {}, 0
    for name, shape in shapes:
        size = int(np.prod(shape))
        values = ((11 * np.arange(k, k + size)) % 64) / 16 - 2
        out[name] = values.reshape(shape)
        k += size
    return out


def write_safetensors(path, arrays, dtype):
    header, blobs, offset = {}, [], 0
    code = {np.float32: "F32", np.float64: "F64"}[dtype]
    for name, a in arrays.items():
        raw = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(b"".join(blobs))


def main():
    x, y, labels = data()
    np.savez("data.npz", X=x.astype(np.float32), Y=y)
    np.savez("labels.npz", X=x, Y=labels.astype(np.int64))
    np.save("x_fortran.npy", np.asfortranarray(x))
    np.save("y.npy", y[:, 0])
    with open("data.csv", "w") as f:
        f.write("a,b,c,target\n")
        for row, target in zip(x, y[:, 0]):
            f.write(",".join(repr(float(v)) for v in row) + "," + repr(float(target)) + "\n")

    w = weights()
    np.savez("weights.npz", **w)
    write_safetensors("weights.safetensors", w, np.float32)
    bad = dict(w)
    bad["layers.0.weight"] = w["layers.0.weight"].T
    np.savez("weights_transposed.npz", **bad)


if __name__ == "__main__":
    main()
