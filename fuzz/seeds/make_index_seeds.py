#!/usr/bin/env python3
"""Writes the seed inputs of the index_files fuzz target (fuzz/seeds/index_files/).

The target reads its input with the `arbitrary` crate (1.x): integers little-endian, a bool is
a byte's low bit, an `Option` a bool then the value, a `Vec` a run of (keep-going bool, element),
an enum variant `k` of `n` a u32 `v` with `(v * n) >> 32 == k`. The classes below mirror the
types in fuzz_targets/index_files.rs; change both together.
Run from anywhere: python3 fuzz/seeds/make_index_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "index_files")
NOW = 1_700_000_000_000


def variant(k, n):
    return struct.pack("<I", -(-(k << 32) // n))


def u8(v):
    return struct.pack("<B", v & 0xFF)


def u16(v):
    return struct.pack("<H", v)


def i64(v):
    return struct.pack("<q", v)


def boolean(b):
    return b"\x01" if b else b"\x00"


def option(v, enc):
    return boolean(False) if v is None else boolean(True) + enc(v)


def vec(items, enc):
    return b"".join(boolean(True) + enc(x) for x in items) + boolean(False)


def byte_vec(b):
    return vec(b, u8)


def base(kind, n=0):
    return {"zero": variant(0, 4), "small": variant(1, 4) + u16(n), "large": variant(2, 4) + struct.pack("<I", n),
            "near_max": variant(3, 4) + u16(n)}[kind]


def knobs(index_interval, max_read, small_segments=False):
    return u16(index_interval) + u16(max_read) + boolean(small_segments)


def record(ts, key, value):
    return option(ts, i64) + option(key, byte_vec) + option(value, byte_vec) + vec([], None)


def fuzz_batch(gap, codec, records):
    return u8(gap) + u8(codec) + vec(records, lambda r: record(*r))


def index_spec(kind, arg=None):
    if kind == "missing":
        return variant(0, 5)
    if kind == "raw":
        return variant(1, 5) + byte_vec(arg)
    if kind == "exact":
        return variant(2, 5) + u8(arg)
    if kind == "perturbed":
        return variant(3, 5) + vec(arg, lambda m: struct.pack("<Bbh", *m))
    if kind == "trailing":
        return variant(4, 5) + byte_vec(arg)
    raise ValueError(kind)


def valid(b, k, batches, index, timeindex):
    return variant(1, 2) + b + k + vec(batches, lambda x: x) + index + timeindex


def raw(b, k, fix_log, log, index, timeindex, recovery_point=None, log_start=None, timestamps=()):
    return (variant(0, 2) + b + k + option(fix_log, u8) + byte_vec(log) + option(index, byte_vec)
            + option(timeindex, byte_vec) + option(recovery_point, lambda v: struct.pack("<Q", v))
            + option(log_start, lambda v: struct.pack("<Q", v)) + vec(timestamps, i64))


THREE = [
    fuzz_batch(0, 0, [(NOW, b"k0", b"v0"), (NOW + 1, None, b"v1"), (NOW + 2, b"k2", None)]),
    fuzz_batch(2, 1, [(NOW + 5, b"k3", b"gzip"), (NOW - 5, b"k4", b"older")]),
    fuzz_batch(0, 3, [(None, b"k5", b"zstd, appended at now")]),
]


def batch_bytes(base_offset, n):
    """A valid batch of `n` small records (for raw seeds), via the batch seed generator."""
    ns = {"__file__": os.path.join(HERE, "make_batch_seeds.py")}
    src = open(ns["__file__"]).read().split("os.makedirs(OUT")[0]
    exec(src, ns)
    return ns["batch"]([(b"k%d" % i, b"v%d" % i) for i in range(n)], base_offset=base_offset)


b0, b1 = batch_bytes(0, 2), batch_bytes(2, 1)
offset_index = struct.pack(">II", 0, 0) + struct.pack(">II", 2, len(b0))
time_index = struct.pack(">qI", NOW + 1, 0)

SEEDS = {
    "valid_exact": valid(base("small", 100), knobs(0, 4096), THREE, index_spec("exact", 1), index_spec("exact", 1)),
    "valid_missing_tiny_reads": valid(base("zero"), knobs(64, 0), THREE, index_spec("missing"), index_spec("missing")),
    # An offset-index entry moved into the middle of the first batch: it passes the sanity check.
    "valid_entry_mid_batch": valid(base("zero"), knobs(0, 4096), THREE, index_spec("perturbed", [(0, 0, 5)]),
                                   index_spec("exact", 1)),
    "valid_time_entry_moved": valid(base("large", 7), knobs(0, 100), THREE, index_spec("exact", 2),
                                    index_spec("perturbed", [(1, 1, -10)])),
    "valid_trailing": valid(base("near_max", 1000), knobs(0, 4096, True), THREE, index_spec("trailing", b"\x00" * 5),
                            index_spec("raw", b"\xff" * 12)),
    "raw_valid_batches": raw(base("zero"), knobs(0, 4096), None, b0 + b1, offset_index, time_index,
                             timestamps=[NOW, NOW + 1]),
    "raw_fixed_up_torn": raw(base("small", 3), knobs(16, 30), 0, b0 + b1[:40], offset_index, None,
                             recovery_point=2, log_start=1),
    "raw_gzip_fixup": raw(base("zero"), knobs(0, 4096, True), 1, b0 + b1, None, time_index),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
