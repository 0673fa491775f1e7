#!/usr/bin/python3
"""Harvest the pickle globals that real, benign ML objects reference.

    /usr/bin/python3 test/harvest_globals.py [OUTPUT]      (default core/policy/data/harvested_globals.txt)

Pickles MANY real objects (every sklearn estimator it can construct, fitted and unfitted;
torch nn modules, optimizers and their state_dicts, lr-scheduler state_dicts, tensors of
every dtype, Size/device/dtype/layout; numpy arrays/dtypes/scalars/random generators; scipy
sparse matrices; stdlib containers and value types; dill/cloudpickle of plain data) through
pickle protocols 2..5, torch.save (zip and legacy) and joblib (plain + compressed), then
unpickles each blob with a pickle.Unpickler subclass whose find_class records (module, name)
and delegates to the real implementation. Only objects created here are loaded.

Output: one line per global, "module<TAB>name<TAB>sources" (sources = comma-joined libraries
whose objects produced it), sorted. Globals whose safety depends on their call arguments go
to a "# needs-call-analysis" section, prefixed "?". Globals from obviously dangerous
modules are dropped and listed in a comment for human review.
"""
import collections
import datetime
import decimal
import fractions
import functools
import io
import os
import pickle
import subprocess
import sys
import tempfile
import warnings
import zipfile

warnings.filterwarnings('ignore')
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, '..', 'core', 'policy', 'data', 'harvested_globals.txt')

FOUND = collections.defaultdict(set)      # (module, name) -> {source}
STATS = collections.Counter()
FAILURES = collections.Counter()

# module prefixes never allowlisted even if a benign object referenced them
DANGEROUS_MODULES = ('os', 'posix', 'nt', 'subprocess', 'sys', 'pickle', '_pickle', 'marshal', 'importlib',
                     'runpy', 'code', 'codeop', 'types', 'shutil', 'socket', 'ctypes', '_ctypes', 'pty',
                     'pdb', 'bdb', 'timeit', 'trace', 'cProfile', 'profile', 'pydoc', 'pkgutil', 'inspect',
                     'operator', '_operator', 'dill', 'cloudpickle', 'asyncio', 'multiprocessing', 'threading',
                     'webbrowser', 'urllib', 'http', 'requests', 'tempfile', 'logging', 'io', '_io', 'zipimport',
                     'distutils', 'ensurepip', 'pip', 'imaplib', 'doctest', 'lib2to3', 'idlelib', 'test',
                     'torch.hub', 'torch.jit', 'torch.utils.collect_env', 'torch.serialization',
                     'numpy.testing', 'numpy.f2py', 'numpy.distutils')
DANGEROUS_BUILTINS = {'eval', 'exec', 'compile', 'open', '__import__', 'breakpoint', 'input', 'setattr',
                      'delattr', 'globals', 'locals', 'vars', 'dir', 'apply', 'execfile', 'file', 'reload',
                      'help', 'exit', 'quit', 'memoryview'}
# legitimately seen in benign files, but whether they are safe depends on the arguments
NEEDS_CALL = {('builtins', 'getattr'), ('__builtin__', 'getattr'), ('copyreg', '_reconstructor'),
              ('copy_reg', '_reconstructor'), ('_codecs', 'encode'), ('builtins', 'set'), ('__builtin__', 'set'),
              ('builtins', 'frozenset'), ('__builtin__', 'frozenset'), ('builtins', 'bytearray'),
              ('__builtin__', 'bytearray'), ('builtins', 'type'), ('__builtin__', 'type'),
              ('builtins', 'object'), ('__builtin__', 'object'), ('functools', 'partial'),
              ('torch.storage', '_load_from_bytes'), ('torch._tensor', '_rebuild_from_type_v2'),
              ('torch._tensor', '_rebuild_from_type'), ('torch._utils', '_rebuild_from_type'),
              ('builtins', 'slice'), ('__builtin__', 'slice'),
              ('pytz', '_p'), ('sklearn.neighbors._ball_tree', 'newObj'), ('sklearn.neighbors._kd_tree', 'newObj'),
              ('_operator', 'or_'), ('operator', 'or_'), ('numpy.core', '_ufunc_reconstruct'),
              ('numpy._core', '_ufunc_reconstruct')}
# exact names that are dangerous although their module is not (kept in step with core/policy dangerousNames)
DANGEROUS_NAMES = {('numpy', 'memmap'), ('numpy', 'load'), ('numpy', 'save'), ('numpy', 'fromfile'),
                   ('numpy', 'loadtxt'), ('numpy', 'genfromtxt'), ('torch', 'load'), ('torch', 'save')}
NEEDS_CALL_WHY = {
    'getattr': 'attribute fetch on an arbitrary object (ultralytics/sklearn use it on safe types only)',
    '_reconstructor': 'calls base.__new__(cls, state) and base.__init__(obj, state)',
    'encode': 'protocol-2 bytes encoding; harmless, but rot13-style tricks build strings with it',
    '_load_from_bytes': 'torch.load() of an embedded byte string: a pickle inside the pickle',
    '_rebuild_from_type_v2': 'calls func(*args) for tensor subclasses',
    '_rebuild_from_type': 'calls func(*args) for tensor subclasses',
    'partial': 'binds any callable; safe only with a safe callable',
    'type': 'creates classes', 'object': 'object.__new__ / __reduce_ex__ helpers',
    '_p': 'pytz.timezone(zone): reads the named zone from the tz database; safe for a plain zone name',
    'newObj': 'calls cls.__new__(cls) for any class: safe when cls is an allowlisted class',
    'or_': 'a | b: safe on plain values (combined enum flags), not on arbitrary objects',
    '_ufunc_reconstruct': 'imports module and fetches name: safe for numpy ufuncs only',
}


def is_dangerous(module, name):
    if (module, name) in DANGEROUS_NAMES:
        return True
    if module in ('builtins', '__builtin__', '__builtins__'):
        return name in DANGEROUS_BUILTINS
    return any(module == m or module.startswith(m + '.') for m in DANGEROUS_MODULES)


class Recorder(pickle.Unpickler):
    source = '?'

    def find_class(self, module, name):
        FOUND[(module, name)].add(self.source)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        import torch
        kind = pid[0].decode() if isinstance(pid[0], bytes) else pid[0]
        if kind == 'module':
            return pid[1]
        if kind == 'storage':
            storage_type, numel = pid[1], pid[4]
            try:
                return storage_type(numel)
            except Exception:  # noqa: BLE001
                return torch.storage.TypedStorage(numel, dtype=storage_type.dtype)
        raise pickle.UnpicklingError('unknown persistent id %r' % (pid,))


def record_stream(data, source, count=None):
    """Unpickle consecutive pickles from data (all of them, or `count`)."""
    bio = io.BytesIO(data)
    n = 0
    while bio.tell() < len(data) and (count is None or n < count):
        r = Recorder(bio)
        r.source = source
        r.load()
        n += 1
    STATS[source] += 1


def record_torch(data, source):
    if data[:4] == b'PK\x03\x04':
        z = zipfile.ZipFile(io.BytesIO(data))
        for n in z.namelist():
            if n.endswith('data.pkl'):
                record_stream(z.read(n), source)
    else:  # legacy: magic, protocol, sys_info, main object, storage keys (raw bytes follow)
        record_stream(data, source, count=5)


def record_joblib(obj, source, compress=0):
    import joblib
    from joblib import numpy_pickle

    orig = numpy_pickle.NumpyUnpickler.find_class

    def find_class(self, module, name):
        FOUND[(module, name)].add(source)
        return orig(self, module, name)

    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, 'o.joblib')
        joblib.dump(obj, p, compress=compress)
        numpy_pickle.NumpyUnpickler.find_class = find_class
        try:
            joblib.load(p)
        finally:
            numpy_pickle.NumpyUnpickler.find_class = orig
    STATS[source + ':joblib'] += 1


def harvest(obj, source, protocols=(2, 3, 4, 5), torch_save=False, joblib_too=True, label=''):
    """Round-trip obj through every requested serialiser, recording globals."""
    for p in protocols:
        try:
            record_stream(pickle.dumps(obj, protocol=p), source)
        except Exception as e:  # noqa: BLE001
            FAILURES['%s pickle p%d %s: %s' % (source, p, label, type(e).__name__)] += 1
    if torch_save:
        import torch
        for legacy in (False, True):
            try:
                bio = io.BytesIO()
                torch.save(obj, bio, _use_new_zipfile_serialization=not legacy)
                record_torch(bio.getvalue(), source)
            except Exception as e:  # noqa: BLE001
                FAILURES['%s torch.save legacy=%s %s: %s' % (source, legacy, label, type(e).__name__)] += 1
    if joblib_too:
        try:
            record_joblib(obj, source)
        except Exception as e:  # noqa: BLE001
            FAILURES['%s joblib %s: %s' % (source, label, type(e).__name__)] += 1


# ------------------------------------------------------------------------------------------
def stdlib_objects():
    import array
    import enum  # noqa: F401
    import pathlib
    import re
    import uuid
    objs = [
        {'a': 1, 'b': [1.5, 'x', None, True], 't': (1, 2), 'big': 2 ** 80},
        {1, 2, 3}, frozenset({1, 2}), bytearray(b'ab'), b'bytes', 'str', complex(1, 2),
        collections.OrderedDict(a=1), collections.defaultdict(list, a=[1]), collections.defaultdict(int),
        collections.defaultdict(dict), collections.defaultdict(set), collections.defaultdict(float),
        collections.Counter('abca'), collections.deque([1, 2]), collections.ChainMap({'a': 1}),
        datetime.datetime(2024, 1, 2, 3, 4, 5), datetime.date(2024, 1, 2), datetime.time(1, 2),
        datetime.timedelta(3), datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
        datetime.timezone(datetime.timedelta(hours=2)), decimal.Decimal('1.5'), fractions.Fraction(1, 3),
        range(5), slice(1, 2), array.array('f', [1.0, 2.0]), uuid.UUID(int=5), pathlib.PurePosixPath('a/b'),
        pathlib.PosixPath('/tmp'), re.compile('a+'), Ellipsis, NotImplemented, type(None),
        functools.partial(int, base=2), int, float, str, dict, list,
    ]
    for o in objs:
        harvest(o, 'python-stdlib', protocols=(0, 1, 2, 3, 4, 5), label=type(o).__name__)
    import cloudpickle
    import dill
    data = {'a': [1, 2.5], 'b': collections.OrderedDict(x=1), 'c': {1, 2}, 'd': datetime.date(2024, 1, 1)}
    for lib, mod in (('dill', dill), ('cloudpickle', cloudpickle)):
        try:
            record_stream(mod.dumps(data), lib)
        except Exception as e:  # noqa: BLE001
            FAILURES['%s dumps: %s' % (lib, e)] += 1


def numpy_objects():
    import numpy as np
    objs = []
    for dt in ['?', 'b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q', 'e', 'f', 'd', 'g', 'F', 'D', 'G',
               'M8[ns]', 'm8[s]', 'U3', 'S3', 'V4', 'O']:
        a = np.zeros(3, dtype=dt)
        if dt == 'O':
            a[:] = ['x', 1, None]
        objs += [a, np.dtype(dt), a[0] if dt not in ('O',) else a, np.asfortranarray(np.zeros((2, 2), dtype=dt))]
    objs += [np.zeros(2, dtype=[('a', '<i4'), ('b', '<f8', (2,))]), np.rec.array([(1, 2.0)], dtype=[('a', 'i4'),
                                                                                                  ('b', 'f8')]),
             np.ma.masked_array([1, 2], mask=[0, 1]), np.matrix([[1, 2]]), np.float64(1.5), np.int64(3),
             np.bool_(True), np.str_('s'), np.bytes_(b'b'), np.datetime64('2024-01-01'), np.timedelta64(3, 'D'),
             np.random.RandomState(0), np.random.default_rng(0), np.random.SeedSequence(0),
             np.dtype('float32').newbyteorder('>'), np.arange(10)[::2], np.empty((0, 3))]
    for bg in ('PCG64', 'PCG64DXSM', 'MT19937', 'Philox', 'SFC64'):
        gen = getattr(np.random, bg)(0)
        objs += [gen, np.random.Generator(gen)]
    for o in objs:
        harvest(o, 'numpy', label=type(o).__name__)
    # Every top-level ufunc (sklearn's FunctionTransformer(np.log1p) pickles one by name);
    # calling a ufunc only computes on its arguments.
    for name in sorted(dir(np)):
        if isinstance(getattr(np, name), np.ufunc):
            harvest(getattr(np, name), 'numpy', protocols=(2, 4), joblib_too=False, label='ufunc ' + name)
    for comp in ('zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4'):
        try:
            record_joblib({'a': np.arange(5.0), 'o': objs[-1]}, 'joblib', compress=(comp, 1))
        except Exception as e:  # noqa: BLE001
            FAILURES['joblib %s: %s' % (comp, e)] += 1


def scipy_objects():
    import numpy as np
    import scipy.sparse as sp
    import scipy.stats as st
    m = sp.random(4, 4, density=0.5, random_state=0)
    objs = [m.tocsr(), m.tocsc(), m.tocoo(), m.tolil(), m.todok(), m.tobsr(), m.todia()]
    for name in ('csr_array', 'csc_array', 'coo_array', 'lil_array', 'dok_array', 'bsr_array', 'dia_array'):
        if hasattr(sp, name):
            objs.append(getattr(sp, name)(m))
    objs += [st.norm(0, 1), st.poisson(3), np.array([1])]
    for o in objs:
        harvest(o, 'scipy', label=type(o).__name__)


def sklearn_objects():
    import numpy as np
    from sklearn.utils import all_estimators
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.tree import DecisionTreeClassifier
    rng = np.random.RandomState(0)
    X = np.abs(rng.rand(40, 4)) + 0.01
    y = np.array([0, 1] * 20)
    yr = rng.rand(40)
    ym = np.c_[y, 1 - y]
    docs = ['alpha beta', 'beta gamma', 'gamma delta', 'delta alpha'] * 5
    dicts = [{'a': 1, 'b': 2}, {'a': 3, 'c': 1}] * 10
    for name, cls in all_estimators():
        made = []
        for kwargs in ({}, {'estimator': LogisticRegression()}, {'estimator': DecisionTreeClassifier(max_depth=2)},
                       {'estimators': [('lr', LogisticRegression()), ('dt', DecisionTreeClassifier())]},
                       {'base_estimator': LinearRegression()}, {'steps': [('lr', LogisticRegression())]},
                       {'transformers': [('id', 'passthrough', [0, 1])]},
                       {'transformer_list': [('id', 'passthrough')]}, {'n_components': 2}):
            try:
                made.append(cls(**kwargs))
                break
            except Exception:  # noqa: BLE001
                continue
        if not made:
            FAILURES['sklearn construct %s' % name] += 1
            continue
        est = made[0]
        for attr, val in (('n_estimators', 3), ('max_iter', 20), ('random_state', 0), ('n_init', 1)):
            try:
                if attr in est.get_params():
                    est.set_params(**{attr: val})
            except Exception:  # noqa: BLE001
                pass
        harvest(est, 'sklearn', protocols=(4,), label=name + ' unfitted')
        fitted = None
        for args in ((X, y), (X, yr), (X,), (docs, y[:20]), (docs,), (dicts,), (X, ym), (y,), (y.reshape(-1, 1),),
                     (X.astype(int), y), (['a', 'b'] * 20,)):
            try:
                fitted = est.fit(*args)
                break
            except Exception:  # noqa: BLE001
                continue
        if fitted is None:
            FAILURES['sklearn fit %s' % name] += 1
            continue
        harvest(fitted, 'sklearn', label=name + ' fitted')
        STATS['sklearn fitted'] += 1


def torch_objects():
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    # tensors of every dtype, plus misc torch value types
    tensors = {}
    for dt in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64, torch.complex128,
               torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64, torch.bool):
        tensors[str(dt)] = torch.zeros(3, dtype=dt)
    extras = {'size': torch.Size([2, 3]), 'device': torch.device('cpu'), 'dtype': torch.float16,
              'layout': torch.strided, 'memory_format': torch.channels_last, 'param': nn.Parameter(torch.ones(2)),
              'sparse': torch.eye(2).to_sparse(), 'noncontig': torch.arange(6.).reshape(2, 3).t(),
              'view': torch.arange(8.)[2:5], 'requires_grad': torch.ones(2, requires_grad=True)}
    try:
        extras['sparse_csr'] = torch.eye(2).to_sparse_csr()
    except Exception:  # noqa: BLE001
        pass
    for qd in (torch.qint8, torch.quint8, torch.qint32):
        try:
            extras[str(qd)] = torch.quantize_per_tensor(torch.tensor([0.5, 1.0]), 0.1, 0, qd)
        except Exception:  # noqa: BLE001
            pass
    try:
        extras['per_channel'] = torch.quantize_per_channel(torch.ones(2, 2), torch.tensor([0.1, 0.2]),
                                                           torch.tensor([0, 0]), 0, torch.qint8)
    except Exception:  # noqa: BLE001
        pass
    for dt in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64, torch.complex128,
               torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64, torch.bool, torch.qint8, torch.quint8,
               torch.qint32):
        extras['dtype ' + str(dt)] = dt
    for k, v in list(tensors.items()) + list(extras.items()):
        harvest({k: v}, 'torch', torch_save=True, joblib_too=False, label=k)
    # nn modules
    arg_sets = [(), (4,), (4, 4), (4, 4, 3), (4, 2, 4), (2, 4, 4, 4), (4, 4, 4), ((2, 2),), (2, 4)]
    made = []
    for name in sorted(nn.modules.__all__):
        cls = getattr(nn, name, None) or getattr(nn.modules, name, None)
        if not isinstance(cls, type):
            continue
        for args in arg_sets:
            try:
                m = cls(*args)
                break
            except Exception:  # noqa: BLE001
                m = None
        if m is None:
            FAILURES['torch construct %s' % name] += 1
            continue
        made.append(m)
        harvest(m, 'torch', torch_save=True, joblib_too=False, label=name)
        harvest(m.state_dict(), 'torch', protocols=(2,), torch_save=True, joblib_too=False, label=name + ' sd')
    seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    harvest(seq, 'torch', torch_save=True, label='Sequential')
    # optimizers and schedulers
    for name in sorted(dir(torch.optim)):
        cls = getattr(torch.optim, name)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)) or cls is torch.optim.Optimizer:
            continue
        try:
            model = nn.Linear(3, 2)
            opt = cls(model.parameters(), lr=0.01)
            model(torch.randn(2, 3)).sum().backward()
            if name == 'LBFGS':
                opt.step(lambda: model(torch.randn(2, 3)).sum())
            else:
                opt.step()
        except Exception:  # noqa: BLE001
            FAILURES['torch optim %s' % name] += 1
            continue
        harvest(opt.state_dict(), 'torch', protocols=(2, 4), torch_save=True, joblib_too=False, label=name)
    sched = torch.optim.lr_scheduler
    for name in sorted(dir(sched)):
        cls = getattr(sched, name)
        if not isinstance(cls, type) or name.startswith('_') or name in ('Optimizer',):
            continue
        opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
        s = None
        for kwargs in ({'step_size': 2}, {'gamma': 0.9}, {'milestones': [1, 2]}, {'T_max': 3},
                       {'lr_lambda': None}, {'max_lr': 0.2, 'total_steps': 5}, {'base_lr': 0.01, 'max_lr': 0.1},
                       {'T_0': 3}, {'total_iters': 3}, {'factor': 0.5}, {}):
            try:
                if 'lr_lambda' in kwargs:
                    continue
                s = cls(opt, **kwargs)
                break
            except Exception:  # noqa: BLE001
                continue
        if s is None or not hasattr(s, 'state_dict'):
            FAILURES['torch scheduler %s' % name] += 1
            continue
        try:
            harvest(s.state_dict(), 'torch', protocols=(2, 4), torch_save=True, joblib_too=False, label=name)
        except Exception:  # noqa: BLE001
            FAILURES['torch scheduler sd %s' % name] += 1


def optional_objects():
    for mod in ('pandas', 'xgboost', 'lightgbm'):
        try:
            __import__(mod)
        except ImportError:
            FAILURES['%s not installed (skipped)' % mod] += 1
            continue
        if mod == 'pandas':
            import pandas as pd
            objs = [pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']}), pd.Series([1.0, 2.0]),
                    pd.Categorical(['a', 'b']), pd.Index([1, 2]), pd.RangeIndex(3), pd.DatetimeIndex(['2024-01-01']),
                    pd.MultiIndex.from_tuples([(1, 'a')]), pd.Timestamp('2024-01-01'), pd.Timedelta('1D'),
                    pd.Interval(0, 1), pd.Period('2024-01')]
            for o in objs:
                harvest(o, 'pandas', label=type(o).__name__)


def corpus_objects():
    """Harvest every file test/gen_benign_corpus.py writes, loaded by its real loader.

    The corpus generator builds the objects (pandas frames of every dtype, xgboost models,
    torchvision architectures, quantized torch modules, fitted sklearn estimators, stdlib
    values) and writes them with the real serialisers into a temporary directory; each file is
    then loaded with the loader named in its manifest entry while the "pickle.find_class" audit
    hook records every global, whichever unpickler (C, Python, torch, joblib) resolves it.
    """
    sys.path.insert(0, HERE)
    import gen_benign_corpus as gbc
    state = {'source': None}

    def hook(event, args):
        if event == 'pickle.find_class' and state['source']:
            FOUND[(args[0], args[1])].add(state['source'])

    sys.addaudithook(hook)
    with tempfile.TemporaryDirectory() as td:
        gbc.OUT = os.path.join(td, 'benign', 'corpus')
        gbc.FIX = td
        for name, fn in (('stdlib', gbc.gen_stdlib), ('numpy', gbc.gen_numpy), ('pandas', gbc.gen_pandas),
                         ('sklearn', gbc.gen_sklearn), ('xgboost', gbc.gen_xgboost), ('torch', gbc.gen_torch)):
            gbc.attempt(name, fn)
        import torchvision  # noqa: F401 - pickles of torchvision modules import it anyway
        for rel, _, _, loader in gbc.ENTRIES:
            source = rel.split('/')[2]
            state['source'] = {'stdlib': 'python-stdlib'}.get(source, source)
            try:
                exec(gbc.LOADERS[loader], {'P': os.path.join(td, rel)})
                STATS['corpus ' + source] += 1
            except Exception as e:  # noqa: BLE001
                FAILURES['corpus %s: %s' % (rel, type(e).__name__)] += 1
            finally:
                state['source'] = None
    for name, why in gbc.SKIPPED:
        FAILURES['corpus skipped %s' % name] += 1


def versions():
    pkgs = ['python3.11', 'python3-torch', 'python3-sklearn', 'python3-numpy', 'python3-scipy', 'python3-joblib',
            'python3-dill', 'python3-cloudpickle', 'python3-lz4', 'python3-pandas', 'python3-xgboost',
            'python3-torchvision', 'python3-tz']
    try:
        out = subprocess.run(['dpkg-query', '-W', '-f', '${Package} ${Version}\\n'] + pkgs, capture_output=True,
                             text=True).stdout.strip().splitlines()
    except OSError:
        out = []
    return out or ['python %s' % sys.version.split()[0]]


def main(argv):
    verbose = '-v' in argv
    args = [a for a in argv[1:] if a != '-v']
    out = args[0] if args else DEFAULT_OUT
    for fn in (stdlib_objects, numpy_objects, scipy_objects, sklearn_objects, torch_objects, optional_objects,
               corpus_objects):
        print('harvesting', fn.__name__, file=sys.stderr)
        fn()
    plain, needs, excluded = [], [], []
    for (module, name), sources in sorted(FOUND.items()):
        line = '%s\t%s\t%s' % (module, name, ','.join(sorted(sources)))
        if is_dangerous(module, name):
            excluded.append(line)
        elif (module, name) in NEEDS_CALL:
            why = NEEDS_CALL_WHY.get(name, 'argument-dependent')
            needs.append('?' + line + '\t# ' + why)
        else:
            plain.append(line)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        f.write('# harvested_globals.txt - pickle globals referenced by real, benign ML objects.\n')
        f.write('# Generated by test/harvest_globals.py (do not edit by hand; re-run it):\n')
        f.write('#   objects: every constructible sklearn estimator (unfitted + fitted on tiny data), torch nn\n')
        f.write('#   modules + state_dicts, optimizers, lr schedulers, tensors of every dtype (incl. sparse,\n')
        f.write('#   quantized, Parameter), numpy arrays/dtypes/scalars/bit generators, scipy sparse, stdlib\n')
        f.write('#   containers/value types, dill/cloudpickle of plain data; and every file of the benign\n')
        f.write('#   corpus (test/gen_benign_corpus.py: pandas, xgboost, torchvision, ...) loaded by its loader;\n')
        f.write('#   serialisers: pickle protocols 2..5 (0..5 for stdlib), torch.save zip + legacy, joblib\n')
        f.write('#   (plain and zlib/gzip/bz2/lzma/xz/lz4); recorded via Unpickler.find_class (raw names as in\n')
        f.write('#   the stream: protocol 2 keeps __builtin__/copy_reg, protocol 4 may be dotted).\n')
        f.write('# Debian package versions:\n')
        for v in versions():
            f.write('#   %s\n' % v)
        f.write('# Format: module<TAB>name<TAB>comma-joined source libraries whose objects referenced it;\n')
        f.write('# "?" lines (needs-call-analysis) carry a 4th TAB field starting with "#": the reason.\n')
        f.write('# Skipped/failed objects (not harvested): %d kinds, e.g. %s\n' % (
            len(FAILURES), '; '.join(sorted(FAILURES)[:8])))
        f.write('#\n# EXCLUDED (seen in benign objects but in an obviously dangerous module; review by hand,\n')
        f.write('# never allowlisted here):\n')
        for line in excluded:
            f.write('#   %s\n' % line.replace('\t', ' '))
        if not excluded:
            f.write('#   (none)\n')
        f.write('\n# --- allowlist candidates (%d) ---\n' % len(plain))
        for line in plain:
            f.write(line + '\n')
        f.write('\n# needs-call-analysis (%d): legitimate in benign files, but safe only for some arguments;\n'
                '# lines start with "?"; the trailing "# ..." says why.\n' % len(needs))
        for line in needs:
            f.write(line + '\n')
    print('wrote %s: %d plain, %d needs-call-analysis, %d excluded; %d failure kinds' % (
        out, len(plain), len(needs), len(excluded), len(FAILURES)), file=sys.stderr)
    if verbose:
        for k, v in sorted(FAILURES.items()):
            print('  fail', k, v, file=sys.stderr)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
