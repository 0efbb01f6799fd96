#!/usr/bin/env python3
"""Writes the seed inputs of the batch_decoder fuzz target (fuzz/seeds/batch_decoder/).

Each seed is a mode byte followed by batches in Runnel's v2 layout (see server/src/log/batch.rs).
Mode bit 0 asks the target to fix lengths and CRCs itself; bits 1-2 then pick the codec it
compresses the records with (0 none, 1 gzip, 2 lz4, 3 zstd), so lz4 and zstd streams need no
seed of their own. Run from anywhere: python3 fuzz/seeds/make_batch_seeds.py
"""
import gzip
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batch_decoder")


def varlong(v):
    z = ((v << 1) ^ (v >> 63)) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def opt(b):
    return varlong(-1) if b is None else varlong(len(b)) + b


def record(ts_delta, off_delta, key, value, headers=()):
    body = b"\x00" + varlong(ts_delta) + varlong(off_delta) + opt(key) + opt(value)
    body += varlong(len(headers))
    for k, v in headers:
        body += opt(k) + opt(v)
    return varlong(len(body)) + body


def batch(records, base_offset=0, base_ts=1_700_000_000_000, codec=0, append_time=False, bad_crc=False):
    raw = b"".join(record(i, i, *r) for i, r in enumerate(records))
    section = gzip.compress(raw) if codec == 1 else raw
    attrs = codec | (0x08 if append_time else 0)
    after_crc = struct.pack(
        ">HiqqqhiI", attrs, len(records) - 1, base_ts, base_ts + len(records) - 1, -1, -1, -1, len(records)
    ) + section
    crc = zlib.crc32(after_crc) ^ (1 if bad_crc else 0)
    head = struct.pack(">qiibI", base_offset, 4 + 1 + 4 + len(after_crc), 0, 2, crc)
    return head + after_crc


RECS = [
    (b"k0", b"v0"),
    (None, b"value without key", [(b"h", b"hv"), (b"null", None)]),
    (b"tombstone", None),
]

SEEDS = {
    "plain": b"\x00" + batch(RECS),
    "gzip": b"\x00" + batch(RECS, codec=1),
    "two_batches_torn_tail": b"\x00" + batch(RECS[:1]) + batch(RECS, base_offset=1) + batch(RECS)[:40],
    "log_append_time": b"\x00" + batch(RECS, append_time=True),
    "bad_crc": b"\x00" + batch(RECS, bad_crc=True),
    # The base offset is outside the CRC: u64::MAX made `BatchHeader::last_offset` overflow.
    "base_offset_overflow": b"\x00" + batch(RECS, base_offset=-1),
    "fixup_none": b"\x01" + batch(RECS),
    "fixup_gzip": b"\x03" + batch(RECS),
    "fixup_lz4": b"\x05" + batch(RECS),
    "fixup_zstd": b"\x07" + batch(RECS) + batch(RECS[:2], base_offset=3),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
