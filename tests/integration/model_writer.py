"""Writes small GGUF and safetensors model files with known weights for the `weights` tests
and the read-speed benchmark. Independent of moescope: follows the GGUF v3 layout
(ggml/docs/gguf.md) and the safetensors layout, with numpy for the numbers.

GGUF tensor types: F32, F16, BF16 and Q8_0 (blocks of 32: an f16 scale, then 32 int8).
Values written are returned as they will read back (BF16 truncated, Q8_0 quantised), so a
reference computed from them is exact up to float rounding."""
import json
import os
import struct

import numpy as np

GGUF_TYPES = {"F32": 0, "F16": 1, "Q8_0": 8, "BF16": 30}
_KV = {int: 5, float: 6, bool: 7, str: 8}  # i32, f32, bool, string; lists: arrays
_U32 = 4


def _gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def _gguf_value(v):
    if isinstance(v, bool):
        return struct.pack("<I?", 7, v)
    if isinstance(v, int):
        return struct.pack("<Ii", 5, v) if -2**31 <= v < 2**31 else struct.pack("<Iq", 11, v)
    if isinstance(v, float):
        return struct.pack("<If", 6, v)
    if isinstance(v, str):
        return struct.pack("<I", 8) + _gguf_str(v)
    if isinstance(v, (list, tuple)):
        inner = [_gguf_value(x) for x in v]
        etype = struct.unpack("<I", inner[0][:4])[0] if inner else 5
        return struct.pack("<IIQ", 9, etype, len(v)) + b"".join(x[4:] for x in inner)
    raise TypeError(type(v))


def as_bf16(a):
    """float32 values truncated to bfloat16 (the bits written) and back."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32) & np.uint32(0xFFFF0000)
    return bits.view(np.float32)


def quantize_q8_0(a):
    """(bytes, dequantised float32) for rows whose length is a multiple of 32."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    blocks = a.reshape(-1, 32)
    amax = np.abs(blocks).max(axis=1)
    d = (amax / 127.0).astype(np.float16)
    df = d.astype(np.float32)
    inv = np.where(df > 0, 1.0 / np.where(df > 0, df, 1), 0)
    q = np.clip(np.rint(blocks * inv[:, None]), -127, 127).astype(np.int8)
    raw = np.zeros(len(blocks), dtype=[("d", "<f2"), ("q", "i1", 32)])
    raw["d"], raw["q"] = d, q
    return raw.tobytes(), (q.astype(np.float32) * df[:, None]).reshape(a.shape)


def encode(a, type_name):
    """(bytes, values as read back) of array a in a GGUF type."""
    a = np.asarray(a, dtype=np.float32)
    if type_name == "F32":
        return a.astype("<f4").tobytes(), a
    if type_name == "F16":
        h = a.astype("<f2")
        return h.tobytes(), h.astype(np.float32)
    if type_name == "BF16":
        t = as_bf16(a)
        return (t.view(np.uint32) >> 16).astype("<u2").tobytes(), t
    if type_name == "Q8_0":
        return quantize_q8_0(a)
    raise ValueError(type_name)


def write_gguf(path, metadata, tensors, alignment=32):
    """tensors: list of (name, numpy array (numpy shape order), type name). Returns
    {name: values as read back}."""
    out, blobs, infos, offset = {}, [], [], 0
    for name, a, tname in tensors:
        raw, back = encode(a, tname)
        out[name] = back
        pad = (-offset) % alignment
        offset += pad
        blobs.append(b"\0" * pad + raw)
        ne = list(reversed(a.shape))  # GGUF lists the innermost dimension first
        infos.append(_gguf_str(name) + struct.pack("<I", len(ne)) +
                     b"".join(struct.pack("<Q", d) for d in ne) +
                     struct.pack("<IQ", GGUF_TYPES[tname], offset))
        offset += len(raw)
    meta = dict(metadata)
    if alignment != 32:
        meta["general.alignment"] = alignment
    kv = b"".join(_gguf_str(k) + (struct.pack("<II", 4, v) if k == "general.alignment"
                                   else _gguf_value(v)) for k, v in meta.items())
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)) + kv + b"".join(infos)
    head += b"\0" * ((-len(head)) % alignment)
    with open(path, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)
    return out


ST_DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": (None, 2), "I32": ("<i4", 4),
             "I64": ("<i8", 8)}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, array, dtype name). Returns {name: values as read back}."""
    header, blobs, out, offset = {}, [], {}, 0
    if metadata:
        header["__metadata__"] = metadata
    for name, a, dt in tensors:
        if dt == "BF16":
            back = as_bf16(a)
            raw = (back.view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            back = np.asarray(a).astype(ST_DTYPES[dt][0])
            raw = back.tobytes()
            back = back.astype(np.float64 if dt in ("I32", "I64") else np.float32)
        out[name] = back
        header[name] = {"dtype": dt, "shape": list(np.shape(a)),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)
    return out


def write_sharded(directory, tensors, shards):
    """Splits tensors over `shards` files with a model.safetensors.index.json."""
    out, weight_map = {}, {}
    for s in range(shards):
        name = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
        part = tensors[s::shards]
        out.update(write_safetensors(os.path.join(directory, name), part))
        weight_map.update({t[0]: name for t in part})
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
    return out
