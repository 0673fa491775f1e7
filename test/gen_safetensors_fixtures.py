#!/usr/bin/python3
"""Generate safetensors fixtures for modelgate.

Debian has no python3-safetensors, so benign files are written from real
torch tensors (python3-torch) by a writer that follows the published format
and the reference implementation's layout: 8-byte little-endian header
length, compact JSON header with __metadata__ first, tensors sorted by dtype
size (largest first) then name, back-to-back data, header padded with
spaces to a multiple of 8. Each benign file is read back independently
(numpy.frombuffer over the declared ranges) and compared with the torch
tensors.

Malicious files are crafted headers and layouts that the safetensors
library rejects or that readers disagree on, and polyglots carrying a
pickle or zip after the data. No safetensors loader executes anything, so
none is "proven"; the appended pickle payloads are checked live with
pickle.loads in a throwaway subprocess (marker file only).

Writes test/fixtures/{benign,malicious}/safetensors/* and
test/fixtures/manifest-safetensors.json, plus seed inputs for the fuzz
target in core/formats/safetensors/testdata/.

Run: /usr/bin/python3 test/gen_safetensors_fixtures.py
"""
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "test", "fixtures")
SEEDS = os.path.join(ROOT, "core", "formats", "safetensors", "testdata")
TOUCH = 'touch "${MODELGATE_MARKER:-/tmp/modelgate-marker}"'

DTYPES = {torch.float32: ("F32", 4, "<f4"), torch.float16: ("F16", 2, "<f2"), torch.bfloat16: ("BF16", 2, None),
          torch.float64: ("F64", 8, "<f8"), torch.int64: ("I64", 8, "<i8"), torch.int32: ("I32", 4, "<i4"),
          torch.int8: ("I8", 1, "i1"), torch.uint8: ("U8", 1, "u1"), torch.bool: ("BOOL", 1, "?")}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(DTYPES[t.dtype][2]).tobytes()


def serialize(tensors, metadata=None):
    """safetensors layout as written by the reference implementation."""
    order = sorted(tensors.items(), key=lambda kv: (-DTYPES[kv[1].dtype][1], kv[0]))
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in order:
        b = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    return raw_file(json.dumps(header, separators=(",", ":")).encode(), b"".join(blobs))


def raw_file(header_json, data, length=None):
    h = header_json + b" " * ((-len(header_json)) % 8)
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


def read_back(data):
    """Independent reader used to check the benign files."""
    n = struct.unpack_from("<Q", data, 0)[0]
    header = json.loads(data[8:8 + n])
    buf = data[8 + n:]
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = (v["dtype"], v["shape"], buf[s:e])
    return header.get("__metadata__"), out


class Payload:
    def __reduce__(self):
        return (os.system, (TOUCH,))


def prove_pickle(blob):
    with tempfile.TemporaryDirectory() as d:
        marker = os.path.join(d, "marker")
        p = os.path.join(d, "p.pkl")
        with open(p, "wb") as f:
            f.write(blob)
        subprocess.run(["/usr/bin/python3", "-c", "import pickle,sys; pickle.load(open(sys.argv[1],'rb'))", p],
                       env=dict(os.environ, MODELGATE_MARKER=marker), cwd=d, capture_output=True, timeout=60)
        return os.path.exists(marker)


def main():
    torch.manual_seed(0)
    manifest = []
    for sub in ("benign/safetensors", "malicious/safetensors"):
        os.makedirs(os.path.join(FIX, sub), exist_ok=True)
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)
    os.makedirs(SEEDS)

    def write(rel, data, label, technique, catalogue="", proven=False, loader="none"):
        with open(os.path.join(FIX, rel), "wb") as f:
            f.write(data)
        with open(os.path.join(SEEDS, os.path.basename(rel)), "wb") as f:
            f.write(data)
        manifest.append({"file": rel, "label": label, "format": "safetensors", "technique": technique,
                         "catalogue": catalogue, "loader": loader, "proven": proven})

    benign = {
        "linear": ({"weight": torch.randn(4, 3), "bias": torch.randn(4)}, {"format": "pt"}),
        "mixed_dtypes": ({"emb": torch.randn(6, 2).half(), "ln": torch.ones(2, dtype=torch.bfloat16),
                          "pos": torch.arange(6, dtype=torch.int64), "mask": torch.tensor([True, False, True]),
                          "q": torch.randint(-5, 5, (3, 3), dtype=torch.int8), "scale": torch.tensor(0.5, dtype=torch.float64)},
                         {"format": "pt", "source": "modelgate fixtures"}),
        "no_metadata": ({"a": torch.zeros(2, 2), "empty": torch.zeros(0, 3)}, None),
        "empty": ({}, None),
    }
    for name, (tensors, meta) in benign.items():
        data = serialize(tensors, meta)
        got_meta, got = read_back(data)
        assert got_meta == meta, name
        for k, t in tensors.items():
            dt, shape, raw = got[k]
            assert dt == DTYPES[t.dtype][0] and shape == list(t.shape) and raw == tensor_bytes(t), (name, k)
        write("benign/safetensors/%s.safetensors" % name, data, "benign",
              "safetensors written from torch tensors by the spec writer in this script (Debian has no python3-safetensors); read back and compared")

    w = torch.arange(8, dtype=torch.float32)
    wb = tensor_bytes(w)
    pk = pickle.dumps(Payload(), protocol=2)
    assert prove_pickle(pk)
    good = serialize({"w": w}, {"format": "pt"})

    write("malicious/safetensors/trailing_pickle.safetensors", good + pk, "malicious",
          "valid safetensors followed by an os.system pickle (polyglot; the pickle runs under pickle.load of the trailing bytes, checked live)", "3.2.21")
    zb = io.BytesIO()
    with zipfile.ZipFile(zb, "w") as z:
        # Fixed timestamps keep the output byte-for-byte reproducible.
        z.writestr(zipfile.ZipInfo("archive/data.pkl", (2024, 1, 1, 0, 0, 0)), pk)
        z.writestr(zipfile.ZipInfo("archive/version", (2024, 1, 1, 0, 0, 0)), "3\n")
    write("malicious/safetensors/trailing_zip.safetensors", good + zb.getvalue(), "malicious",
          "valid safetensors followed by a zip holding an os.system pickle (zipfile opens the polyglot through its end record)", "3.2.21")

    hdr = lambda d: json.dumps(d, separators=(",", ":")).encode()
    entry = lambda s, e, shape=(8,), dt="F32": {"dtype": dt, "shape": list(shape), "data_offsets": [s, e]}
    overlap = hdr({"a": entry(0, 32), "b": entry(16, 48)})
    write("malicious/safetensors/overlapping_offsets.safetensors", raw_file(overlap, wb + wb[:16]), "malicious",
          "two tensors whose byte ranges overlap")
    gap_payload = pk + b"\0" * ((-len(pk)) % 4)
    gap = hdr({"a": entry(0, 32), "b": entry(32 + len(gap_payload), 64 + len(gap_payload))})
    write("malicious/safetensors/gap_hides_pickle.safetensors", raw_file(gap, wb + gap_payload + wb), "malicious",
          "a pickle hidden in unreferenced bytes between two tensors")
    dup = b'{"w":' + hdr(entry(0, 32)) + b',"w":' + hdr(entry(32, 64)) + b'}'
    write("malicious/safetensors/duplicate_keys.safetensors", raw_file(dup, wb + wb), "malicious",
          "duplicate tensor key: readers disagree on which entry wins")
    write("malicious/safetensors/header_length_past_eof.safetensors", raw_file(hdr({"w": entry(0, 32)}), wb, length=1 << 40), "malicious",
          "header length far beyond the end of the file")
    meta = hdr({"__metadata__": {"format": "pt", "code": {"__reduce__": "os.system"}}, "w": entry(0, 32)})
    write("malicious/safetensors/metadata_not_strings.safetensors", raw_file(meta, wb), "malicious",
          "__metadata__ holds an object instead of a string")
    odt = hdr({"w": entry(0, 32, dt="O")})
    write("malicious/safetensors/object_dtype.safetensors", raw_file(odt, wb), "malicious",
          "unknown dtype 'O' (object)")
    short = hdr({"w": entry(0, 32, shape=(2, 2))})
    write("malicious/safetensors/shape_mismatch.safetensors", raw_file(short, wb), "malicious",
          "data_offsets hold 32 bytes but shape [2,2] of F32 needs 16")
    junk = hdr({"w": entry(0, 32)}) + b"garbage"
    write("malicious/safetensors/junk_after_header.safetensors", raw_file(junk, wb), "malicious",
          "non-whitespace bytes after the JSON header inside the declared header length")

    # A pickle whose bytes 8-9 read '{"', so it starts like a safetensors
    # file: the scanner must still run it through the pickle VM.
    s = b'a{"safetensors":1}'
    disguised = b"\x80\x02X" + struct.pack("<I", len(s)) + s + b"0" + pickle.dumps(Payload(), protocol=2)[2:]
    assert disguised[8:10] == b'{"'
    assert prove_pickle(disguised)
    write("malicious/safetensors/pickle_disguised.safetensors", disguised, "malicious",
          "pickle whose first bytes look like a safetensors header length and JSON start; pickle.load runs os.system",
          "3.2.21", proven=True, loader="pickle.load")

    manifest.sort(key=lambda e: e["file"])
    with open(os.path.join(FIX, "manifest-safetensors.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("wrote %d fixtures" % len(manifest))


if __name__ == "__main__":
    main()
