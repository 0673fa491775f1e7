#!/usr/bin/python3
"""Generate modelgate's broad benign corpus: everyday files written by the real libraries.

    /usr/bin/python3 test/gen_benign_corpus.py

Needs Debian's python3-torch, -torchvision, -numpy, -scipy, -sklearn, -joblib, -pandas and
-xgboost (no PyPI). Writes test/fixtures/benign/corpus/<library>/... and
test/fixtures/manifest-corpus.json (label "benign"). Every file is loaded back with its real
loader (pickle.load, joblib.load, torch.load, torch.jit.load, numpy.load, pandas.read_pickle,
xgboost.Booster.load_model, scipy.sparse.load_npz) in one throw-away subprocess; an entry is
"proven": true only if that load succeeded.

A false alarm is a failure: modelgate must report nothing at medium or above on any of these
files and scan all of them. The corpus deliberately covers what real checkpoints carry besides
tensors (argparse.Namespace, RNG states, GradScaler state, enums, stdlib value types, pandas
frames of every dtype, fitted sklearn estimators of every family, xgboost models, torchvision
architectures).

Size: every file stays below 100 KB. Full-size torchvision architectures are pickled whole
(torch.save(model)) with every parameter and buffer replaced by an empty tensor of the same
dtype: the pickle still names every class the architecture uses, which is what a scanner
judges, while the weights would be megabytes of zeros.

Determinism: PYTHONHASHSEED=0 (re-exec), fixed seeds, gzip mtime 0, zip members rewritten with
a fixed timestamp. Known residual non-determinism: none expected beyond library versions.
"""
import argparse
import collections
import datetime
import decimal
import enum  # noqa: F401
import fractions
import io
import json
import os
import pathlib
import pickle
import random
import re
import shutil
import subprocess
import sys
import tempfile
import types
import uuid
import warnings
import zipfile

warnings.filterwarnings('ignore')

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, 'fixtures')
OUT = os.path.join(FIX, 'benign', 'corpus')
MANIFEST_PATH = os.path.join(FIX, 'manifest-corpus.json')
MAX_FILE = 100 * 1024

ENTRIES = []   # (rel, fmt, technique, loader)
SKIPPED = []   # (name, reason)


def write(rel, data, fmt, technique, loader):
    if len(data) >= MAX_FILE:
        SKIPPED.append((rel, 'too large: %d bytes' % len(data)))
        return
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    ENTRIES.append(('benign/corpus/' + rel, fmt, technique, loader))


def reseed():
    """Estimators without random_state and frozen scipy distributions use the global RNGs."""
    import numpy as np
    import torch
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


def attempt(name, fn):
    """Run one maker; a library feature missing here is recorded, not fatal."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        SKIPPED.append((name, '%s: %s' % (type(e).__name__, str(e)[:120])))


def file_bytes(writer, suffix=''):
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, 'f' + suffix)
        writer(p)
        with open(p, 'rb') as f:
            return f.read()


def fixed_zip(data):
    """Rewrite a zip with a fixed timestamp per member (same names, data, compression)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = info.compress_type
            zi.external_attr = info.external_attr
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def pickles(rel_base, obj, technique, protocols=(2, 3, 4, 5), ext='.pkl', fmt='pickle'):
    for p in protocols:
        write('%s_p%d%s' % (rel_base, p, ext), pickle.dumps(obj, protocol=p), fmt,
              '%s, pickle protocol %d' % (technique, p), 'pickle.load')


def joblib_dump(rel, obj, technique, compress=0):
    import joblib
    write(rel, file_bytes(lambda p: joblib.dump(obj, p, compress=compress)), 'joblib',
          '%s, joblib.dump(compress=%r)' % (technique, compress), 'joblib.load')


def normalise_legacy(data):
    """Legacy torch.save names storages by memory address: rename them (test/gen_fixtures.py)."""
    sys.dont_write_bytecode = True
    sys.path.insert(0, HERE)
    import gen_fixtures
    return gen_fixtures._normalise_legacy_keys(data)


def pickle_dumps(obj, protocol):
    """pickle.dumps, except that torch storages (which torch reduces to
    _load_from_bytes(<legacy torch.save bytes>)) get their legacy bytes normalised."""
    import torch

    class P(pickle.Pickler):
        def reducer_override(self, o):
            if isinstance(o, (torch.storage.TypedStorage, torch.storage.UntypedStorage)):
                bio = io.BytesIO()
                torch.save(o, bio, _use_new_zipfile_serialization=False)
                return torch.storage._load_from_bytes, (normalise_legacy(bio.getvalue()),)
            return NotImplemented

    bio = io.BytesIO()
    P(bio, protocol=protocol).dump(obj)
    return bio.getvalue()


def torch_save(rel, obj, technique, legacy=False):
    import torch
    bio = io.BytesIO()
    try:
        torch.save(obj, bio, _use_new_zipfile_serialization=not legacy)
    except Exception as e:  # noqa: BLE001
        SKIPPED.append((rel, '%s: %s' % (type(e).__name__, str(e)[:120])))
        return
    data = bio.getvalue()
    data = normalise_legacy(data) if legacy else fixed_zip(data)
    write(rel, data, 'pytorch', technique + (' (legacy torch.save format)' if legacy else ''), 'torch.load')


# ------------------------------------------------------------------------------------------ stdlib
class Point(collections.namedtuple('Point', 'x y')):
    pass


def gen_stdlib():
    Pair = collections.namedtuple('Pair', ['a', 'b'])  # noqa: F841 - local class is not picklable; use stdlib ones
    data = {
        'ordered': collections.OrderedDict([('b', 1), ('a', 2)]),
        'defaultdict_list': collections.defaultdict(list, {'k': [1, 2]}),
        'defaultdict_int': collections.defaultdict(int, {'k': 3}),
        'counter': collections.Counter('mississippi'),
        'deque': collections.deque([1, 2, 3], maxlen=5),
        'chainmap': collections.ChainMap({'a': 1}, {'b': 2}),
        'datetime': datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
        'datetime_utc': datetime.datetime(2024, 5, 6, tzinfo=datetime.timezone.utc),
        'datetime_plus2': datetime.datetime(2024, 5, 6, tzinfo=datetime.timezone(datetime.timedelta(hours=2), 'CEST')),
        'date': datetime.date(2024, 1, 31), 'time': datetime.time(12, 30, 1),
        'timedelta': datetime.timedelta(days=2, seconds=5),
        'decimal': decimal.Decimal('3.14159'), 'fraction': fractions.Fraction(22, 7),
        'uuid': uuid.UUID('12345678-1234-5678-1234-567812345678'),
        'purepath': pathlib.PurePosixPath('runs/exp1/best.pt'),
        'regexflag': re.IGNORECASE | re.MULTILINE,
        'pattern': re.compile(r'^layer\.(\d+)\.weight$', re.IGNORECASE),
        'namespace': argparse.Namespace(lr=0.01, epochs=10, arch='resnet18', amp=True, data='/data/imagenet'),
        'simplenamespace': types.SimpleNamespace(batch_size=32, seed=0),
        'set': {1, 2, 3}, 'frozenset': frozenset({'a', 'b'}), 'bytearray': bytearray(b'\x00\x01'),
        'complex': complex(1.5, -2), 'bytes': b'raw', 'none': None, 'big': 2 ** 100, 'float': float('inf'),
        'range': range(0, 10, 2), 'slice': slice(1, None, 2),
        'random_state': random.Random(0).getstate(),
    }
    pickles('stdlib/checkpoint_values', data, 'stdlib value types commonly stored in checkpoints',
            protocols=(0, 1, 2, 3, 4, 5))
    for name, value in sorted(data.items()):
        write('stdlib/%s_p4.pkl' % name, pickle.dumps(value, protocol=4), 'pickle',
              'stdlib %s (%s), pickle protocol 4' % (name, type(value).__name__), 'pickle.load')
    import array
    write('stdlib/array_p2.pkl', pickle.dumps(array.array('d', [1.0, 2.0]), protocol=2), 'pickle',
          'array.array, pickle protocol 2', 'pickle.load')
    write('stdlib/array_p4.pkl', pickle.dumps(array.array('i', [1, 2]), protocol=4), 'pickle',
          'array.array, pickle protocol 4', 'pickle.load')
    # namedtuples from libraries (module-level, so picklable)
    import torch
    write('stdlib/named_tuple_sort_p4.pkl', pickle_dumps(torch.sort(torch.tensor([3., 1.])), 4), 'pickle',
          'torch.return_types.sort named tuple', 'pickle.load')


# ------------------------------------------------------------------------------------------ numpy
def gen_numpy():
    import numpy as np
    rng = np.random.RandomState(0)
    arrays = {
        'bool': np.array([True, False]), 'int8': np.arange(4, dtype=np.int8), 'uint16': np.arange(4, dtype=np.uint16),
        'int32': np.arange(4, dtype=np.int32), 'int64_2d': np.arange(6, dtype=np.int64).reshape(2, 3),
        'float16': np.ones(3, np.float16), 'float32': rng.rand(3).astype(np.float32), 'float64': rng.rand(3),
        'longdouble': np.ones(2, np.longdouble), 'complex64': np.ones(2, np.complex64),
        'complex128': np.array([1 + 2j]), 'big_endian': np.arange(3, dtype='>i4'),
        'fortran': np.asfortranarray(np.arange(6.).reshape(2, 3)), 'unicode': np.array(['a', 'bcd']),
        'bytes': np.array([b'x', b'yz']), 'void': np.zeros(2, dtype='V4'),
        'datetime64': np.array(['2024-01-01', '2024-06-30'], dtype='datetime64[D]'),
        'datetime64_ns': np.array(['2024-01-01T12:00'], dtype='datetime64[ns]'),
        'timedelta64': np.array([1, 2], dtype='timedelta64[s]'),
        'structured': np.zeros(2, dtype=[('id', '<i4'), ('pos', '<f8', (3,)), ('name', 'U8')]),
        'nested_struct': np.zeros(1, dtype=[('a', [('x', 'f4'), ('y', 'f4')]), ('b', 'i2')]),
        'empty': np.empty((0, 3)), 'scalar0d': np.array(3.5),
    }
    objects = np.empty(7, dtype=object)
    objects[:] = ['text', {'k': [1, 2]}, [1, 'a'], decimal.Decimal('1.1'), fractions.Fraction(1, 3),
                  datetime.datetime(2024, 1, 1), None]
    for name, arr in sorted(arrays.items()):
        bio = io.BytesIO()
        np.save(bio, arr, allow_pickle=False)
        write('numpy/%s.npy' % name, bio.getvalue(), 'numpy', 'np.save of a %s array' % arr.dtype, 'numpy.load')
    bio = io.BytesIO()
    np.save(bio, objects, allow_pickle=True)
    write('numpy/object_plain_python.npy', bio.getvalue(), 'numpy',
          'np.save of an object array of str/dict/list/Decimal/Fraction/datetime/None', 'numpy.load(allow_pickle)')
    # a memmap'd array saved with np.save and pickled
    with tempfile.TemporaryDirectory() as td:
        mm = np.memmap(os.path.join(td, 'm.dat'), dtype='float32', mode='w+', shape=(4,))
        mm[:] = [1, 2, 3, 4]
        bio = io.BytesIO()
        np.save(bio, mm)
        write('numpy/memmap_saved.npy', bio.getvalue(), 'numpy', 'np.save of a np.memmap', 'numpy.load')
        # pickle.dumps(mm) and joblib.dump of arrays loaded with mmap_mode name
        # numpy.memmap only as the subtype of _reconstruct (or NumpyArrayWrapper's
        # subclass), where it is never called: they must pass.
        for proto in (2, 4):
            write('numpy/memmap_p%d.pkl' % proto, pickle.dumps(mm, protocol=proto), 'pickle',
                  'pickle.dumps of a np.memmap (numpy.memmap as the subtype of _reconstruct)', 'pickle.load')
        import joblib
        src = os.path.join(td, 'arrays.joblib')
        joblib.dump({'w': np.arange(8.0), 'b': np.ones(3, dtype='int32')}, src)
        joblib_dump('numpy/remapped.joblib', joblib.load(src, mmap_mode='r'),
                    'joblib.dump of arrays loaded with mmap_mode (NumpyArrayWrapper subclass numpy.memmap)')
        del mm
    for comp in (False, True):
        bio = io.BytesIO()
        (np.savez_compressed if comp else np.savez)(bio, x=arrays['float32'], y=arrays['int64_2d'],
                                                   s=arrays['structured'], d=arrays['datetime64'])
        write('numpy/savez%s.npz' % ('_compressed' if comp else ''), fixed_zip(bio.getvalue()), 'npz',
              'np.savez%s of four arrays' % ('_compressed' if comp else ''), 'numpy.load')
    bio = io.BytesIO()
    np.savez(bio, obj=objects)
    write('numpy/savez_object.npz', fixed_zip(bio.getvalue()), 'npz', 'np.savez of an object array',
          'numpy.load(allow_pickle)')
    values = {
        'randomstate': np.random.RandomState(42), 'generator_pcg64': np.random.default_rng(42),
        'generator_philox': np.random.Generator(np.random.Philox(1)),
        'generator_sfc64': np.random.Generator(np.random.SFC64(1)),
        'generator_mt19937': np.random.Generator(np.random.MT19937(1)),
        'seedsequence': np.random.SeedSequence(7), 'get_state': np.random.get_state(),
        'masked': np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0], fill_value=-1),
        'matrix': np.matrix([[1, 2], [3, 4]]), 'recarray': np.rec.array([(1, 2.0)], dtype=[('a', 'i4'), ('b', 'f8')]),
        'scalars': [np.float32(1.5), np.int64(2), np.bool_(True), np.str_('s'), np.datetime64('2024-01-01'),
                    np.timedelta64(5, 'm'), np.complex128(1j), np.float16(0.5)],
        'dtypes': [np.dtype('f4'), np.dtype('>i8'), np.dtype([('a', 'f4')]), np.dtype('M8[ns]'), np.dtype('O')],
        'object_array': objects,
    }
    for name, v in sorted(values.items()):
        pickles('numpy/%s' % name, v, 'numpy %s' % name, protocols=(2, 4, 5))
    # scipy
    import scipy.sparse as sp
    m = sp.random(6, 5, density=0.4, random_state=0, format='csr')
    for fmtname in ('csr', 'csc', 'coo', 'lil', 'dok', 'bsr', 'dia'):
        mat = m.asformat(fmtname)
        pickles('scipy/sparse_%s_matrix' % fmtname, mat, 'scipy.sparse %s_matrix' % fmtname, protocols=(2, 4))
        if fmtname in ('csr', 'csc', 'coo', 'bsr', 'dia'):
            for comp in (False, True):
                bio = io.BytesIO()
                sp.save_npz(bio, mat, compressed=comp)
                write('scipy/save_npz_%s%s.npz' % (fmtname, '_compressed' if comp else ''), fixed_zip(bio.getvalue()),
                      'npz', 'scipy.sparse.save_npz of a %s matrix' % fmtname, 'scipy.sparse.load_npz')
    for cls in ('csr_array', 'csc_array', 'coo_array'):
        if hasattr(sp, cls):
            pickles('scipy/sparse_%s' % cls, getattr(sp, cls)(m), 'scipy.sparse %s' % cls, protocols=(4,))
    import scipy.stats as st
    import scipy.interpolate as si
    pickles('scipy/frozen_distributions', [st.norm(0, 1), st.poisson(3), st.beta(2, 3)],
            'scipy.stats frozen distributions', protocols=(4,))
    x = np.linspace(0, 1, 8)
    pickles('scipy/interp1d', si.interp1d(x, x ** 2), 'scipy.interpolate.interp1d', protocols=(4,))
    pickles('scipy/spline', si.make_interp_spline(x, x ** 2), 'scipy.interpolate.BSpline', protocols=(4,))
    import joblib  # noqa: F401
    joblib_dump('numpy/arrays_dict.joblib', {'a': arrays['float64'], 'b': arrays['structured'], 'o': objects},
                'dict of numpy arrays')
    joblib_dump('numpy/arrays_dict_z3.joblib', {'a': arrays['float64'], 'b': arrays['int64_2d']},
                'dict of numpy arrays', compress=3)
    joblib_dump('scipy/sparse_csr.joblib', m, 'scipy csr matrix')


# ------------------------------------------------------------------------------------------ pandas
def pandas_frames():
    import numpy as np
    import pandas as pd
    idx = pd.date_range('2024-01-01', periods=4, freq='D')
    df = pd.DataFrame({
        'int': np.arange(4, dtype=np.int64), 'float': [0.5, 1.5, np.nan, 3.0], 'obj': ['a', None, 'c', 'd'],
        'str': pd.array(['w', 'x', None, 'z'], dtype='string'), 'cat': pd.Categorical(['lo', 'hi', 'lo', 'mid']),
        'ordered_cat': pd.Categorical(['s', 'm', 'l', 's'], categories=['s', 'm', 'l'], ordered=True),
        'dt': idx, 'dt_tz': idx.tz_localize('UTC').tz_convert('Europe/Berlin'),
        'td': pd.to_timedelta([1, 2, 3, 4], unit='h'), 'period': pd.period_range('2024-01', periods=4, freq='M'),
        'interval': pd.arrays.IntervalArray.from_breaks([0, 1, 2, 3, 4]), 'bool': [True, False, True, False],
        'nullable_int': pd.array([1, None, 3, 4], dtype='Int64'), 'nullable_bool': pd.array([True, None, False, True],
                                                                                            dtype='boolean'),
        'float32': np.ones(4, np.float32), 'uint8': np.arange(4, dtype=np.uint8),
        'sparse': pd.arrays.SparseArray([0, 0, 1, 0]),
    })
    mi = pd.MultiIndex.from_product([['a', 'b'], [1, 2]], names=['letter', 'num'])
    frames = {
        'dataframe_all_dtypes': df,
        'series_float': pd.Series([1.0, 2.0], name='x'),
        'series_datetime_index': pd.Series(np.arange(4.0), index=idx),
        'series_tz_index': pd.Series(np.arange(4.0), index=idx.tz_localize('US/Eastern')),
        'series_categorical': pd.Series(pd.Categorical(['x', 'y', 'x'])),
        'series_period_index': pd.Series([1, 2], index=pd.period_range('2024Q1', periods=2, freq='Q')),
        'series_timedelta_index': pd.Series([1, 2], index=pd.timedelta_range('1 day', periods=2)),
        'series_interval_index': pd.Series([1, 2], index=pd.interval_range(0, 2)),
        'series_string': pd.Series(['a', None], dtype='string'),
        'multiindex_frame': pd.DataFrame({'v': np.arange(4.0)}, index=mi),
        'multiindex_columns': pd.DataFrame(np.ones((2, 4)), columns=mi),
        'categorical_index': pd.DataFrame({'v': [1, 2]}, index=pd.CategoricalIndex(['p', 'q'])),
        'range_index_frame': pd.DataFrame({'v': [1, 2, 3]}),
        'float_index': pd.Series([1, 2], index=[0.5, 1.5]),
        'sparse_frame': pd.DataFrame({'s': pd.arrays.SparseArray([0.0, 1.0, 0.0])}),
        'empty_frame': pd.DataFrame(),
        'scalars': [pd.Timestamp('2024-01-01 12:00', tz='UTC'), pd.Timedelta('1D2h'), pd.Period('2024-03', 'M'),
                    pd.Interval(0, 1, closed='left'), pd.NaT, pd.NA, pd.offsets.MonthEnd(2), pd.DateOffset(days=3)],
        'dtypes': [pd.CategoricalDtype(['a', 'b']), pd.DatetimeTZDtype(tz='UTC'), pd.PeriodDtype('D'),
                   pd.IntervalDtype('int64'), pd.StringDtype(), pd.Int64Dtype(), pd.SparseDtype(float, 0.0)],
        'describe': df[['int', 'float']].describe(),
        'groupby_agg': df.groupby('cat')[['int', 'float']].mean(),
        'pivot': pd.DataFrame({'r': ['a', 'a', 'b'], 'c': ['x', 'y', 'x'], 'v': [1, 2, 3]}).pivot_table(
            index='r', columns='c', values='v'),
    }
    return frames


def gen_pandas():
    import pandas as pd
    frames = pandas_frames()
    for name, obj in sorted(frames.items()):
        pickles('pandas/%s' % name, obj, 'pandas %s' % name, protocols=(2, 3, 4, 5))
    df = frames['dataframe_all_dtypes']
    for comp in (None, 'gzip', 'bz2', 'xz', 'zip'):
        ext = {None: '', 'gzip': '.gz', 'bz2': '.bz2', 'xz': '.xz', 'zip': '.zip'}[comp]
        compression = {'method': 'gzip', 'mtime': 0} if comp == 'gzip' else comp
        data = file_bytes(lambda p: df.to_pickle(p, compression=compression), '.pkl' + ext)
        if comp == 'zip':
            data = fixed_zip(data)
        write('pandas/to_pickle_all_dtypes.pkl%s' % ext, data, 'pickle' if comp is None else comp,
              'DataFrame.to_pickle(compression=%r)' % comp, 'pandas.read_pickle')
    for proto in (2, 3, 4, 5):
        data = file_bytes(lambda p: frames['multiindex_frame'].to_pickle(p, protocol=proto), '.pkl')
        write('pandas/to_pickle_multiindex_p%d.pkl' % proto, data, 'pickle',
              'DataFrame.to_pickle(protocol=%d) with a MultiIndex' % proto, 'pandas.read_pickle')
    joblib_dump('pandas/frame.joblib', df, 'pandas DataFrame of every dtype')
    joblib_dump('pandas/frame_z3.joblib', df, 'pandas DataFrame of every dtype', compress=3)
    torch_save('pandas/frame_in_checkpoint.pt', {'stats': frames['describe'], 'epoch': 1},
               'torch.save of a dict holding a pandas DataFrame')
    assert pd  # imported for side effect


# ------------------------------------------------------------------------------------------ sklearn
def sklearn_models():
    import numpy as np
    from sklearn import (calibration, cluster, compose, cross_decomposition, decomposition, discriminant_analysis,
                         ensemble, feature_extraction, feature_selection, gaussian_process, impute, isotonic,
                         kernel_approximation, kernel_ridge, linear_model, manifold, mixture, model_selection,
                         multiclass, multioutput, naive_bayes, neighbors, neural_network, pipeline, preprocessing,
                         random_projection, semi_supervised, svm, tree, covariance, dummy)
    from sklearn.experimental import enable_hist_gradient_boosting  # noqa: F401
    rng = np.random.RandomState(0)
    X = rng.rand(30, 4)
    y = np.array([0, 1, 2] * 10)
    yb = np.array([0, 1] * 15)
    yr = X @ [1.0, -2.0, 0.5, 0.0] + rng.rand(30) * 0.1
    docs = ['the cat sat', 'the dog ran', 'a cat and a dog', 'birds fly high', 'the bird sat'] * 4
    ydocs = np.array([0, 1, 0, 1, 0] * 4)
    mixed = __import__('pandas').DataFrame({'num': rng.rand(30), 'cat': ['a', 'b', 'c'] * 10,
                                            'num2': rng.rand(30)})
    m = {}

    def fit(name, est, *args):
        try:
            m[name] = est.fit(*args)
        except Exception as e:  # noqa: BLE001
            SKIPPED.append(('sklearn ' + name, '%s: %s' % (type(e).__name__, str(e)[:120])))

    fit('linear_regression', linear_model.LinearRegression(), X, yr)
    fit('logistic_regression', linear_model.LogisticRegression(max_iter=200), X, y)
    fit('ridge', linear_model.Ridge(), X, yr)
    fit('ridge_classifier_cv', linear_model.RidgeClassifierCV(), X, y)
    fit('lasso', linear_model.Lasso(alpha=0.01), X, yr)
    fit('elastic_net_cv', linear_model.ElasticNetCV(cv=3), X, yr)
    fit('sgd_classifier', linear_model.SGDClassifier(random_state=0), X, y)
    fit('sgd_regressor', linear_model.SGDRegressor(random_state=0), X, yr)
    fit('huber', linear_model.HuberRegressor(), X, yr)
    fit('bayesian_ridge', linear_model.BayesianRidge(), X, yr)
    fit('poisson_regressor', linear_model.PoissonRegressor(), X, np.abs(yr))
    fit('perceptron', linear_model.Perceptron(), X, y)
    fit('passive_aggressive', linear_model.PassiveAggressiveClassifier(random_state=0), X, y)
    fit('quantile_regressor', linear_model.QuantileRegressor(alpha=0.0, solver='highs'), X, yr)
    fit('ransac', linear_model.RANSACRegressor(random_state=0), X, yr)
    fit('svc', svm.SVC(probability=True, random_state=0), X, y)
    fit('linear_svc', svm.LinearSVC(random_state=0), X, y)
    fit('svr', svm.SVR(), X, yr)
    fit('one_class_svm', svm.OneClassSVM(), X)
    fit('decision_tree', tree.DecisionTreeClassifier(max_depth=3, random_state=0), X, y)
    fit('extra_tree_regressor', tree.ExtraTreeRegressor(max_depth=3, random_state=0), X, yr)
    fit('random_forest', ensemble.RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0), X, y)
    fit('extra_trees', ensemble.ExtraTreesRegressor(n_estimators=3, max_depth=3, random_state=0), X, yr)
    fit('gradient_boosting', ensemble.GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0), X, y)
    fit('gradient_boosting_regressor', ensemble.GradientBoostingRegressor(n_estimators=3, max_depth=2), X, yr)
    fit('hist_gradient_boosting', ensemble.HistGradientBoostingClassifier(max_iter=5, random_state=0), X, y)
    fit('hist_gradient_boosting_regressor', ensemble.HistGradientBoostingRegressor(max_iter=5), X, yr)
    fit('adaboost', ensemble.AdaBoostClassifier(n_estimators=3, random_state=0), X, y)
    fit('bagging', ensemble.BaggingRegressor(n_estimators=3, random_state=0), X, yr)
    fit('isolation_forest', ensemble.IsolationForest(n_estimators=3, random_state=0), X)
    fit('voting', ensemble.VotingClassifier([('lr', linear_model.LogisticRegression()),
                                             ('nb', naive_bayes.GaussianNB())], voting='soft'), X, y)
    fit('stacking', ensemble.StackingRegressor([('r', linear_model.Ridge()), ('t', tree.DecisionTreeRegressor(
        max_depth=2))], final_estimator=linear_model.LinearRegression(), cv=3), X, yr)
    fit('knn_classifier', neighbors.KNeighborsClassifier(3), X, y)
    fit('knn_regressor_kdtree', neighbors.KNeighborsRegressor(3, algorithm='kd_tree'), X, yr)
    fit('nearest_neighbors_balltree', neighbors.NearestNeighbors(algorithm='ball_tree'), X)
    fit('nearest_centroid', neighbors.NearestCentroid(), X, y)
    fit('kernel_density', neighbors.KernelDensity(), X)
    fit('lof', neighbors.LocalOutlierFactor(n_neighbors=5, novelty=True), X)
    fit('gaussian_nb', naive_bayes.GaussianNB(), X, y)
    fit('multinomial_nb', naive_bayes.MultinomialNB(), X, y)
    fit('bernoulli_nb', naive_bayes.BernoulliNB(), X, y)
    fit('complement_nb', naive_bayes.ComplementNB(), X, y)
    fit('kmeans', cluster.KMeans(3, n_init=1, random_state=0), X)
    fit('minibatch_kmeans', cluster.MiniBatchKMeans(3, n_init=1, random_state=0), X)
    fit('dbscan', cluster.DBSCAN(), X)
    fit('agglomerative', cluster.AgglomerativeClustering(3), X)
    fit('birch', cluster.Birch(n_clusters=3), X)
    fit('gaussian_mixture', mixture.GaussianMixture(2, random_state=0), X)
    fit('pca', decomposition.PCA(2), X)
    fit('truncated_svd', decomposition.TruncatedSVD(2), X)
    fit('nmf', decomposition.NMF(2, init='nndsvda', max_iter=50), X)
    fit('fast_ica', decomposition.FastICA(2, random_state=0, whiten='unit-variance'), X)
    fit('kernel_pca', decomposition.KernelPCA(2, kernel='rbf'), X)
    fit('lda_topics', decomposition.LatentDirichletAllocation(2, max_iter=3, random_state=0), X)
    fit('tsne_free_isomap', manifold.Isomap(n_neighbors=5, n_components=2), X)
    fit('lda', discriminant_analysis.LinearDiscriminantAnalysis(), X, y)
    fit('qda', discriminant_analysis.QuadraticDiscriminantAnalysis(), X, y)
    fit('pls', cross_decomposition.PLSRegression(2), X, yr)
    fit('gaussian_process', gaussian_process.GaussianProcessRegressor(
        kernel=gaussian_process.kernels.RBF() + gaussian_process.kernels.WhiteKernel()), X, yr)
    fit('kernel_ridge', kernel_ridge.KernelRidge(kernel='rbf'), X, yr)
    fit('mlp_classifier', neural_network.MLPClassifier((8,), max_iter=50, random_state=0), X, y)
    fit('mlp_regressor', neural_network.MLPRegressor((8,), max_iter=50, random_state=0), X, yr)
    fit('bernoulli_rbm', neural_network.BernoulliRBM(4, n_iter=2, random_state=0), X)
    fit('isotonic', isotonic.IsotonicRegression(), X[:, 0], yr)
    fit('calibrated_svc', calibration.CalibratedClassifierCV(svm.LinearSVC(random_state=0), cv=3), X, y)
    fit('one_vs_rest', multiclass.OneVsRestClassifier(linear_model.LogisticRegression()), X, y)
    fit('multi_output', multioutput.MultiOutputRegressor(linear_model.Ridge()), X, np.c_[yr, yr])
    fit('label_spreading', semi_supervised.LabelSpreading(), X, np.where(np.arange(30) % 3 == 0, -1, y))
    fit('rbf_sampler', kernel_approximation.RBFSampler(n_components=8, random_state=0), X)
    fit('random_projection', random_projection.SparseRandomProjection(2, random_state=0), X)
    fit('empirical_covariance', covariance.LedoitWolf(), X)
    fit('dummy', dummy.DummyClassifier(strategy='prior'), X, y)
    fit('standard_scaler', preprocessing.StandardScaler(), X)
    fit('minmax_scaler', preprocessing.MinMaxScaler(), X)
    fit('robust_scaler', preprocessing.RobustScaler(), X)
    fit('quantile_transformer', preprocessing.QuantileTransformer(n_quantiles=10), X)
    fit('power_transformer', preprocessing.PowerTransformer(), X)
    fit('polynomial_features', preprocessing.PolynomialFeatures(2), X)
    fit('spline_transformer', preprocessing.SplineTransformer(n_knots=3), X)
    fit('kbins', preprocessing.KBinsDiscretizer(3, encode='ordinal'), X)
    fit('one_hot_encoder', preprocessing.OneHotEncoder(handle_unknown='ignore'), mixed[['cat']])
    fit('ordinal_encoder', preprocessing.OrdinalEncoder(), mixed[['cat']])
    fit('label_encoder', preprocessing.LabelEncoder(), ['x', 'y', 'z', 'x'])
    fit('label_binarizer', preprocessing.LabelBinarizer(), y)
    fit('function_transformer_log1p', preprocessing.FunctionTransformer(np.log1p, inverse_func=np.expm1), X)
    fit('function_transformer_sqrt', preprocessing.FunctionTransformer(np.sqrt), X)
    fit('simple_imputer', impute.SimpleImputer(strategy='median'), X)
    fit('knn_imputer', impute.KNNImputer(), X)
    fit('missing_indicator', impute.MissingIndicator(features='all'), X)
    fit('select_kbest', feature_selection.SelectKBest(k=2), X, y)
    fit('variance_threshold', feature_selection.VarianceThreshold(), X)
    fit('rfe', feature_selection.RFE(linear_model.LogisticRegression(), n_features_to_select=2), X, y)
    fit('select_from_model', feature_selection.SelectFromModel(linear_model.Lasso(alpha=0.01)), X, yr)
    fit('count_vectorizer', feature_extraction.text.CountVectorizer(ngram_range=(1, 2)), docs)
    fit('tfidf_vectorizer', feature_extraction.text.TfidfVectorizer(stop_words='english'), docs)
    fit('hashing_vectorizer', feature_extraction.text.HashingVectorizer(n_features=32), docs)
    fit('dict_vectorizer', feature_extraction.DictVectorizer(), [{'a': 1, 'b': 2}, {'a': 3, 'c': 1}])
    fit('pipeline_scaler_pca_lr', pipeline.make_pipeline(preprocessing.StandardScaler(), decomposition.PCA(2),
                                                         linear_model.LogisticRegression()), X, y)
    fit('pipeline_tfidf_svc', pipeline.Pipeline([('tfidf', feature_extraction.text.TfidfVectorizer()),
                                                 ('svc', svm.LinearSVC(random_state=0))]), docs, ydocs)
    fit('feature_union', pipeline.FeatureUnion([('pca', decomposition.PCA(1)), ('kb', feature_selection.SelectKBest(
        k=1))]), X, y)
    ct = compose.ColumnTransformer([
        ('num', pipeline.make_pipeline(impute.SimpleImputer(), preprocessing.StandardScaler()), ['num', 'num2']),
        ('cat', preprocessing.OneHotEncoder(handle_unknown='ignore'), ['cat'])], remainder='drop')
    fit('column_transformer_pipeline', pipeline.make_pipeline(ct, linear_model.LogisticRegression()), mixed, yb)
    fit('column_transformer_selector', compose.ColumnTransformer([
        ('num', preprocessing.StandardScaler(), compose.make_column_selector(dtype_include='number'))]), mixed)
    fit('transformed_target', compose.TransformedTargetRegressor(regressor=linear_model.Ridge(), func=np.log1p,
                                                                 inverse_func=np.expm1), X, np.abs(yr))
    fit('grid_search', model_selection.GridSearchCV(svm.SVC(), {'C': [0.1, 1.0], 'kernel': ['linear', 'rbf']},
                                                    cv=3), X, y)
    fit('randomized_search', model_selection.RandomizedSearchCV(
        tree.DecisionTreeClassifier(random_state=0), {'max_depth': [1, 2, 3]}, n_iter=2, cv=3, random_state=0), X, y)
    m['kfold_splitter'] = model_selection.StratifiedKFold(3, shuffle=True, random_state=0)
    for search in (m.get('grid_search'), m.get('randomized_search')):
        if search is not None:  # wall-clock timings would change every run
            for k in search.cv_results_:
                if k.endswith('_time'):
                    search.cv_results_[k] = np.zeros_like(search.cv_results_[k])
            search.refit_time_ = 0.0
    if hasattr(m.get('tfidf_vectorizer'), '_stop_words_id'):
        m['tfidf_vectorizer']._stop_words_id = 0  # id() of the stop-word list: a memory address
    return m


def gen_sklearn():
    models = sklearn_models()
    for name, est in sorted(models.items()):
        write('sklearn/%s.pkl' % name, pickle.dumps(est, protocol=4), 'pickle',
              'sklearn %s fitted, pickle protocol 4' % type(est).__name__, 'pickle.load')
        joblib_dump('sklearn/%s.joblib' % name, est, 'sklearn %s fitted' % type(est).__name__, compress=3)
    for name in ('logistic_regression', 'column_transformer_pipeline', 'hist_gradient_boosting',
                 'function_transformer_log1p', 'grid_search', 'random_forest'):
        est = models[name]
        for p in (2, 5):
            write('sklearn/%s_p%d.pkl' % (name, p), pickle.dumps(est, protocol=p), 'pickle',
                  'sklearn %s fitted, pickle protocol %d' % (type(est).__name__, p), 'pickle.load')
        joblib_dump('sklearn/%s_plain.joblib' % name, est, 'sklearn %s fitted' % type(est).__name__)


# ------------------------------------------------------------------------------------------ xgboost
def gen_xgboost():
    import numpy as np
    import xgboost as xgb
    rng = np.random.RandomState(0)
    X = rng.rand(40, 4)
    y = (X[:, 0] > 0.5).astype(int)
    yr = X[:, 1] * 2
    params = dict(n_estimators=3, max_depth=2, random_state=0, n_jobs=1)
    models = {
        'xgb_classifier': xgb.XGBClassifier(**params).fit(X, y),
        'xgb_multiclass': xgb.XGBClassifier(**params).fit(X, np.arange(40) % 3),
        'xgb_regressor': xgb.XGBRegressor(**params).fit(X, yr),
        'xgb_rf_classifier': xgb.XGBRFClassifier(**params).fit(X, y),
        'xgb_ranker': xgb.XGBRanker(**params).fit(X, yr.round(), group=[20, 20]),
    }
    dtrain = xgb.DMatrix(X, label=y, feature_names=['f_a', 'f_b', 'f_c', 'f_d'])
    models['booster'] = xgb.train({'max_depth': 2, 'objective': 'binary:logistic', 'nthread': 1}, dtrain, 3)
    for name, mdl in sorted(models.items()):
        pickles('xgboost/%s' % name, mdl, 'xgboost %s' % type(mdl).__name__, protocols=(2, 4, 5))
        joblib_dump('xgboost/%s.joblib' % name, mdl, 'xgboost %s' % type(mdl).__name__)
        joblib_dump('xgboost/%s_z3.joblib' % name, mdl, 'xgboost %s' % type(mdl).__name__, compress=3)
        booster = mdl if isinstance(mdl, xgb.Booster) else mdl.get_booster()
        for ext in ('json', 'ubj'):
            data = file_bytes(lambda p: booster.save_model(p), '.' + ext)
            write('xgboost/%s_save_model.%s' % (name, ext), data, 'xgboost-' + ext,
                  'xgboost Booster.save_model %s' % ext.upper(), 'xgboost.Booster.load_model')
        write('xgboost/%s_raw.bin' % name, bytes(booster.save_raw(raw_format='deprecated')), 'xgboost-binary',
              'xgboost Booster.save_raw deprecated binary format', 'xgboost.Booster.load_model')
    torch_save('xgboost/booster_in_checkpoint.pt', {'xgb': models['booster'], 'note': 'stacked'},
               'torch.save of a dict holding an xgboost Booster')


# ------------------------------------------------------------------------------------------ torch
def tiny_net():
    import torch.nn as nn

    return nn.ModuleDict({
        'conv': nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
                              nn.MaxPool2d(2), nn.Conv1d(4, 4, 1), nn.ConvTranspose2d(4, 2, 2), nn.GroupNorm(1, 2),
                              nn.Dropout2d(0.1), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        'rnn': nn.ModuleList([nn.LSTM(4, 4, batch_first=True), nn.GRU(4, 4, bidirectional=True), nn.RNN(4, 2)]),
        'embed': nn.Embedding(10, 4, padding_idx=0), 'bag': nn.EmbeddingBag(10, 4, mode='mean'),
        'norm': nn.LayerNorm(4), 'act': nn.Sequential(nn.GELU(), nn.SiLU(), nn.Tanh(), nn.LeakyReLU(0.1),
                                                       nn.Softmax(dim=-1), nn.Identity()),
        'transformer': nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, batch_first=True),
                                             num_layers=1),
        'attn': nn.MultiheadAttention(4, 2), 'head': nn.Linear(4, 2), 'bilinear': nn.Bilinear(2, 2, 1),
        'prelu': nn.PReLU(),
    })


def shrink(model):
    """Replace every parameter/buffer by an empty view of one shared per-dtype storage.

    The class graph (what the pickle names) stays; the archive holds one storage per dtype.
    """
    import torch
    empty = {}

    def view(t):
        return empty.setdefault(t.dtype, torch.empty(0, dtype=t.dtype))[:0]

    for mod in model.modules():
        for n, p in list(mod._parameters.items()):
            if p is not None:
                mod._parameters[n] = torch.nn.Parameter(view(p.detach()), requires_grad=p.requires_grad)
        for n, b in list(mod._buffers.items()):
            if b is not None:
                mod._buffers[n] = view(b)
    return model


def gen_torch():
    import numpy as np
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    net = tiny_net()
    torch_save('torch/tiny_many_layers_state_dict.pt', net.state_dict(), 'state_dict of a tiny net of many layer types')
    torch_save('torch/tiny_many_layers_state_dict_legacy.pt', net.state_dict(), 'state_dict of a tiny net',
               legacy=True)
    torch_save('torch/tiny_many_layers_module.pt', net, 'torch.save of a full nn.Module of many layer types')
    torch_save('torch/tiny_many_layers_module_legacy.pt', net, 'torch.save of a full nn.Module', legacy=True)
    # optimizers and schedulers
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opts = {'adam': torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True),
            'adamw': torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01),
            'sgd': torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True),
            'rmsprop': torch.optim.RMSprop(model.parameters()), 'adagrad': torch.optim.Adagrad(model.parameters())}
    for opt in opts.values():
        model(torch.randn(2, 4)).sum().backward()
        opt.step()
        opt.zero_grad()
    sched = {
        'step': torch.optim.lr_scheduler.StepLR(opts['sgd'], 2),
        'cosine': torch.optim.lr_scheduler.CosineAnnealingLR(opts['adam'], 10),
        'onecycle': torch.optim.lr_scheduler.OneCycleLR(opts['adamw'], max_lr=0.01, total_steps=10),
        'plateau': torch.optim.lr_scheduler.ReduceLROnPlateau(opts['rmsprop']),
        'multistep': torch.optim.lr_scheduler.MultiStepLR(opts['adagrad'], [1, 2]),
        'warm_restarts': torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opts['sgd'], 3),
        'cyclic': torch.optim.lr_scheduler.CyclicLR(opts['sgd'], 0.01, 0.1),
        'linear': torch.optim.lr_scheduler.LinearLR(opts['sgd']),
    }
    for name, opt in sorted(opts.items()):
        torch_save('torch/optimizer_%s.pt' % name, opt.state_dict(), 'torch.optim.%s state_dict' % type(opt).__name__)
    for name, s in sorted(sched.items()):
        torch_save('torch/scheduler_%s.pt' % name, s.state_dict(), 'lr_scheduler %s state_dict' % type(s).__name__)
    scaler = torch.cuda.amp.GradScaler(enabled=False)
    scaler_state = {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5, 'growth_interval': 2000,
                    '_growth_tracker': 0}
    args = argparse.Namespace(arch='resnet18', lr=0.1, epochs=90, batch_size=256, workers=4, amp=True,
                              data=pathlib.PurePosixPath('/data/imagenet'), seed=None, milestones=[30, 60])
    ckpt = {
        'epoch': 7, 'global_step': 7000, 'best_acc1': torch.tensor(71.5), 'arch': 'tiny',
        'model': model.state_dict(), 'optimizer': opts['adamw'].state_dict(), 'scheduler': sched['onecycle'].state_dict(),
        'scaler': scaler.state_dict() or scaler_state, 'args': args,
        'rng_state': {'torch': torch.get_rng_state(), 'numpy': np.random.get_state(), 'python': random.getstate()},
        'config': types.SimpleNamespace(hidden=8, dropout=0.1), 'date': datetime.datetime(2024, 1, 1, 12, 0),
        'dtype': torch.float16, 'device': torch.device('cpu'), 'size': torch.Size([4, 8]),
        'metrics': collections.OrderedDict(loss=0.25, acc=0.9), 'history': collections.defaultdict(list, {'loss': [1.0]}),
    }
    torch_save('torch/training_checkpoint.pt', ckpt, 'full training checkpoint: model, optimizer, scheduler, '
               'GradScaler, argparse.Namespace, torch/numpy/python RNG states')
    torch_save('torch/training_checkpoint_legacy.pt', ckpt, 'full training checkpoint', legacy=True)
    write('torch/training_checkpoint_p4.pkl', pickle_dumps(ckpt, 4), 'pickle',
          'training checkpoint with pickle.dump instead of torch.save', 'pickle.load')
    # tensors of unusual dtypes/layouts
    tensors = {
        'complex64': torch.randn(3, dtype=torch.complex64), 'complex128': torch.randn(2, dtype=torch.complex128),
        'bfloat16': torch.randn(3).bfloat16(), 'float16': torch.randn(3).half(), 'bool': torch.tensor([True, False]),
        'int8': torch.arange(4, dtype=torch.int8), 'uint8': torch.arange(4, dtype=torch.uint8),
        'sparse_coo': torch.eye(3).to_sparse(), 'sparse_csr': torch.eye(3).to_sparse_csr(),
        'noncontiguous': torch.arange(6.).reshape(2, 3).t(), 'view_of_storage': torch.arange(10.)[3:6],
        'channels_last': torch.randn(1, 2, 2, 2).contiguous(memory_format=torch.channels_last),
        'parameter': nn.Parameter(torch.ones(2)), 'requires_grad': torch.ones(2, requires_grad=True),
        'qint8': torch.quantize_per_tensor(torch.tensor([0.5, 1.0]), 0.1, 0, torch.qint8),
        'quint8_per_channel': torch.quantize_per_channel(torch.ones(2, 2), torch.tensor([0.1, 0.2]),
                                                         torch.tensor([0, 0]), 0, torch.quint8),
        'scalars': [torch.Size([1, 2]), torch.device('cpu'), torch.float32, torch.bfloat16, torch.complex64,
                    torch.strided, torch.sparse_coo, torch.int64],
    }
    torch_save('torch/tensor_zoo.pt', tensors, 'tensors of complex/bf16/fp16/sparse/quantized dtypes and '
               'torch.Size/device/dtype/layout/memory_format values')
    torch_save('torch/tensor_zoo_legacy.pt', {k: v for k, v in tensors.items() if k != 'sparse_csr'},
               'tensor zoo', legacy=True)
    torch_save('torch/named_tuples.pt', {'topk': torch.topk(torch.arange(5.), 2), 'max': torch.max(
        torch.ones(2, 2), 0)}, 'torch.return_types named tuples')
    # quantized models
    qmodel = torch.ao.quantization.quantize_dynamic(nn.Sequential(nn.Linear(4, 4), nn.LSTM(4, 4)),
                                                    {nn.Linear, nn.LSTM}, dtype=torch.qint8)
    torch_save('torch/quantized_dynamic_module.pt', qmodel, 'torch.save of a dynamically quantized module')
    torch_save('torch/quantized_dynamic_state_dict.pt', qmodel.state_dict(), 'state_dict of a quantized module')
    static = nn.Sequential(torch.ao.quantization.QuantStub(), nn.Conv2d(1, 2, 1), nn.ReLU(),
                           torch.ao.quantization.DeQuantStub())
    static.qconfig = torch.ao.quantization.get_default_qconfig('fbgemm')
    prepared = torch.ao.quantization.prepare(static)
    prepared(torch.randn(1, 1, 4, 4))
    qstatic = torch.ao.quantization.convert(prepared)
    torch_save('torch/quantized_static_state_dict.pt', qstatic.state_dict(), 'state_dict of a static-quantized conv')
    torch_save('torch/quantized_static_module.pt', qstatic, 'torch.save of a static-quantized module')
    # TorchScript
    scripted = torch.jit.script(nn.Sequential(nn.Linear(4, 4), nn.ReLU()))
    traced = torch.jit.trace(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).eval(), torch.randn(1, 1, 5, 5))
    for name, mod in (('jit_script', scripted), ('jit_trace', traced)):
        bio = io.BytesIO()
        torch.jit.save(mod, bio)
        write('torch/%s.pt' % name, fixed_zip(bio.getvalue()), 'torchscript', 'torch.%s output' % name.replace(
            '_', '.'), 'torch.jit.load')
    # torchvision
    import torchvision
    import torchvision.transforms as T
    archs = ['resnet18', 'mobilenet_v3_small', 'squeezenet1_1', 'efficientnet_b0', 'vit_b_16', 'shufflenet_v2_x0_5',
             'mnasnet0_5', 'densenet121', 'googlenet', 'regnet_y_400mf', 'convnext_tiny', 'swin_t', 'alexnet',
             'vgg11_bn', 'inception_v3', 'mobilenet_v2']
    for arch in archs:
        builder = getattr(torchvision.models, arch, None)
        if builder is None:
            SKIPPED.append(('torchvision ' + arch, 'not in torchvision %s' % torchvision.__version__))
            continue
        kwargs = {'weights': None}
        if arch in ('googlenet', 'inception_v3'):
            kwargs.update(aux_logits=False, init_weights=False)
        try:
            mdl = shrink(builder(**kwargs).eval())
        except Exception as e:  # noqa: BLE001
            SKIPPED.append(('torchvision ' + arch, '%s: %s' % (type(e).__name__, e)))
            continue
        torch_save('torchvision/%s_module_empty_weights.pt' % arch, mdl,
                   'torch.save(torchvision.models.%s) with empty weight tensors' % arch)
        if arch in ('resnet18', 'mobilenet_v3_small'):
            torch_save('torchvision/%s_module_empty_weights_legacy.pt' % arch, mdl, 'torchvision %s' % arch,
                       legacy=True)
    torch_save('torchvision/squeezenet1_1_state_dict_fp16.pt',
               {k: v.half() for k, v in torchvision.models.squeezenet1_1(weights=None).state_dict().items()
                if v.numel() < 600}, 'part of a torchvision squeezenet1_1 state_dict in fp16')
    tf = T.Compose([T.Resize(32, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(28), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), T.RandomHorizontalFlip()])
    torch_save('torchvision/transforms_in_checkpoint.pt', {'transform': tf, 'classes': ['cat', 'dog']},
               'torchvision transforms (Compose/Resize/Normalize, InterpolationMode enum) in a checkpoint')
    write('torchvision/transforms_p4.pkl', pickle.dumps(tf, protocol=4), 'pickle', 'pickled torchvision transforms',
          'pickle.load')


# ------------------------------------------------------------------------------------------ verify
LOADERS = {
    'pickle.load': 'import pickle\nwith open(P,"rb") as f: pickle.load(f)',
    'joblib.load': 'import joblib\njoblib.load(P)',
    'torch.load': 'import torch\ntorch.load(P)',
    'torch.jit.load': 'import torch\ntorch.jit.load(P)',
    'numpy.load': 'import numpy\nr=numpy.load(P)\n[r[k] for k in r.files] if hasattr(r,"files") else r',
    'numpy.load(allow_pickle)': 'import numpy\nr=numpy.load(P,allow_pickle=True)\n'
                                '[r[k] for k in r.files] if hasattr(r,"files") else r',
    'pandas.read_pickle': 'import pandas\npandas.read_pickle(P)',
    'xgboost.Booster.load_model': 'import xgboost\nb=xgboost.Booster()\nb.load_model(bytearray(open(P,"rb").read()) '
                                  'if P.endswith(".bin") else P)',
    'scipy.sparse.load_npz': 'import scipy.sparse\nscipy.sparse.load_npz(P)',
}


def verify():
    """Load every file with its loader in one throw-away subprocess; returns {rel: error}."""
    jobs = [(os.path.join(FIX, rel), LOADERS[loader]) for rel, _, _, loader in ENTRIES]
    code = ('import json,sys,warnings\nwarnings.filterwarnings("ignore")\nimport torchvision\nfails={}\n'
            'for P,src in json.load(sys.stdin):\n'
            '    try:\n        exec(src,{"P":P})\n'
            '    except Exception as e:\n        fails[P]="%s: %s"%(type(e).__name__,str(e)[:200])\n'
            'print(json.dumps(fails))\n')
    with tempfile.TemporaryDirectory() as td:
        r = subprocess.run([sys.executable, '-c', code], input=json.dumps(jobs), cwd=td, capture_output=True,
                           text=True, timeout=1800)
    if r.returncode != 0:
        raise SystemExit('verifier failed: ' + r.stderr[-2000:])
    fails = json.loads(r.stdout.strip().splitlines()[-1])
    return {os.path.relpath(p, FIX): e for p, e in fails.items()}


def main():
    if os.environ.get('PYTHONHASHSEED') != '0':
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED='0'))
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for name, fn in (('stdlib', gen_stdlib), ('numpy', gen_numpy), ('pandas', gen_pandas), ('sklearn', gen_sklearn),
                     ('xgboost', gen_xgboost), ('torch', gen_torch)):
        print('generating', name, file=sys.stderr)
        reseed()
        attempt(name, fn)
    fails = verify()
    manifest = []
    for rel, fmt, technique, loader in sorted(ENTRIES):
        manifest.append({'file': rel, 'label': 'benign', 'format': fmt, 'technique': technique, 'catalogue': '4',
                         'loader': loader, 'proven': rel not in fails})
    with open(MANIFEST_PATH, 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(FIX, e['file'])) for e in manifest)
    by_lib = collections.Counter(e['file'].split('/')[2] for e in manifest)
    print('wrote %d files (%d bytes): %s' % (len(manifest), total, dict(sorted(by_lib.items()))), file=sys.stderr)
    for rel, err in sorted(fails.items()):
        print('  NOT PROVEN %s: %s' % (rel, err), file=sys.stderr)
    for name, why in SKIPPED:
        print('  skipped %s: %s' % (name, why), file=sys.stderr)


if __name__ == '__main__':
    main()
