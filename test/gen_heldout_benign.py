#!/usr/bin/python3
"""Generate modelgate's HELD-OUT benign corpus.

    /usr/bin/python3 test/gen_heldout_benign.py

This generator is deliberately independent of test/gen_benign_corpus.py and of the allowlist
harvester (test/harvest_globals.py never reads its output): it pickles other estimators, other
dtypes and other Python objects that users store next to models (stdlib result tuples and enum
members, loggers, scipy results, frozen distributions, interpolators and trees, scikit-learn
scorers and loss objects, pandas date offsets, torch weight-norm/spectral-norm hooks and
distributions, numpy masked arrays, polynomials and chararrays, zoneinfo, random.Random...).
The held-out test (test/heldout_test.go) asserts that nothing here is reported at high and at
most 5% of the files get a medium finding, so it measures how the allowlist generalises rather
than how well it memorised its own inputs.

Needs Debian's python3-torch, -numpy, -scipy, -sklearn, -joblib, -pandas (no PyPI). Writes
test/fixtures/heldout/benign/<library>/... and test/fixtures/heldout/manifest-benign.json. Every
file is loaded back with its real loader in a throw-away subprocess; "proven": true only if that
load succeeded. Files stay below 64 KB.
"""
import collections
import datetime
import decimal
import io
import ipaddress
import json
import logging
import operator
import os
import pickle
import platform
import random
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
import warnings
import zipfile
import http
import inspect

warnings.filterwarnings('ignore')

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'heldout', 'benign')
MANIFEST = os.path.join(HERE, 'fixtures', 'heldout', 'manifest-benign.json')
MAX_FILE = 64 * 1024

ENTRIES = []
SKIPPED = []


def write(rel, data, fmt, technique, loader):
    if len(data) >= MAX_FILE:
        SKIPPED.append((rel, 'too large: %d bytes' % len(data)))
        return
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    ENTRIES.append({'file': 'heldout/benign/' + rel, 'label': 'benign', 'format': fmt,
                    'technique': technique, 'loader': loader})


def attempt(name, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        SKIPPED.append((name, '%s: %s' % (type(e).__name__, str(e)[:160])))


def pkl(rel, obj, what, protocols=(2, 4)):
    for p in protocols:
        write('%s_p%d.pkl' % (rel, p), pickle.dumps(obj, protocol=p), 'pickle',
              '%s, pickle protocol %d' % (what, p), 'pickle.load')


def joblib_file(rel, obj, what, compress=0):
    import joblib
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, 'f.joblib')
        joblib.dump(obj, p, compress=compress)
        with open(p, 'rb') as f:
            write(rel, f.read(), 'joblib', '%s, joblib.dump(compress=%r)' % (what, compress), 'joblib.load')


def fixed_zip(data):
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = info.compress_type
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def torch_file(rel, obj, what):
    import torch
    bio = io.BytesIO()
    try:
        torch.save(obj, bio)
    except Exception as e:  # noqa: BLE001
        SKIPPED.append((rel, '%s: %s' % (type(e).__name__, str(e)[:160])))
        return
    write(rel, fixed_zip(bio.getvalue()), 'pytorch', what + ', torch.save', 'torch.load')


# ------------------------------------------------------------------------------------------ stdlib
def gen_stdlib():
    st = os.stat_result((0o100644, 1, 2, 1, 0, 0, 10, 0, 0, 0))
    pkl('stdlib/os_stat_result', st, 'os.stat_result (a struct sequence)')
    pkl('stdlib/platform_uname', platform.uname_result('Linux', 'host', '6.1', '#1', 'x86_64'),
        'platform.uname_result named tuple')
    pkl('stdlib/urlparse_results', {
        'parse': urllib.parse.urlparse('https://example.org/a?b=1#c'),
        'split': urllib.parse.urlsplit('s3://bucket/key'),
        'defrag': urllib.parse.urldefrag('https://example.org/x#frag'),
        'bytes': urllib.parse.urlparse(b'http://example.org/'),
    }, 'urllib.parse result tuples')
    pkl('stdlib/enum_members', {
        'ssl_purpose': ssl.Purpose.SERVER_AUTH, 'tls': ssl.TLSVersion.TLSv1_2,
        'verify': ssl.VerifyMode.CERT_REQUIRED, 'af': socket.AddressFamily.AF_INET,
        'kind': socket.SocketKind.SOCK_STREAM, 'sig': signal.Signals.SIGTERM,
        'status': http.HTTPStatus.NOT_FOUND, 'method': http.HTTPMethod.GET if hasattr(http, 'HTTPMethod') else None,
        'param_kind': inspect.Parameter.POSITIONAL_OR_KEYWORD, 'safe_uuid': uuid.SafeUUID.safe,
    }, 'enum members of ssl, socket, signal, http, inspect and uuid', protocols=(2, 3, 4, 5))
    pkl('stdlib/loggers', {'root': logging.getLogger(), 'train': logging.getLogger('train.metrics')},
        'logging.Logger references (pickled as getLogger(name))')
    pkl('stdlib/itemgetters', {'second': operator.itemgetter(1), 'pair': operator.itemgetter(0, 2),
                               'key': operator.itemgetter('loss')}, 'operator.itemgetter sort keys')
    import zoneinfo
    pkl('stdlib/zoneinfo', {'berlin': zoneinfo.ZoneInfo('Europe/Berlin'),
                            'when': datetime.datetime(2024, 3, 1, 12, tzinfo=zoneinfo.ZoneInfo('America/New_York'))},
        'zoneinfo.ZoneInfo and an aware datetime')
    pkl('stdlib/random_random', random.Random(1234), 'random.Random generator with its state')
    pkl('stdlib/misc_values', {
        'ip4': ipaddress.IPv4Address('10.0.0.1'), 'net': ipaddress.ip_network('192.168.0.0/24'),
        'ip6': ipaddress.IPv6Address('::1'), 'normal': statistics.NormalDist(0.5, 0.1),
        'ctx': decimal.Decimal('1.10'), 'userdict': collections.UserDict({'a': 1}),
        'userlist': collections.UserList([1, 2]), 'chain': collections.ChainMap({'x': 1}),
        'td': datetime.timedelta(hours=-3), 'tz': datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
    }, 'ipaddress, statistics.NormalDist, collections.User*', protocols=(0, 2, 4))


# ------------------------------------------------------------------------------------------ numpy
def gen_numpy():
    import numpy as np
    pkl('numpy/masked_array', np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0], fill_value=-1.0),
        'numpy.ma masked array')
    pkl('numpy/polynomials', {
        'poly': np.polynomial.Polynomial([1, 2, 3]), 'cheb': np.polynomial.Chebyshev([0.5, 1]),
        'leg': np.polynomial.Legendre([1, 0, 1]), 'herm': np.polynomial.Hermite([1, 1]),
        'lag': np.polynomial.Laguerre([2]), 'poly1d': np.poly1d([1, -3, 2]),
    }, 'numpy polynomial classes')
    pkl('numpy/chararray', np.char.array(['ab', 'cde']), 'numpy.char.chararray')
    pkl('numpy/recarray', np.rec.array([(1, 2.0), (3, 4.0)], dtype=[('a', 'i4'), ('b', 'f8')]),
        'numpy record array')
    pkl('numpy/datetime_arrays', {
        'dt': np.array(['2024-01-01', '2024-06-30'], dtype='datetime64[D]'),
        'td': np.array([1, 2], dtype='timedelta64[s]'), 'f16': np.arange(4, dtype=np.float16),
        'c64': np.array([1 + 2j], dtype=np.complex64), 'u2': np.arange(3, dtype='>u2'),
        'bytes': np.array([b'ab', b'c'], dtype='S2'), 'unicode': np.array(['x', 'yz'], dtype='U2'),
        'void': np.zeros(2, dtype='V4'), 'nested': np.zeros(1, dtype=[('p', [('x', 'f4'), ('y', 'f4')])]),
    }, 'numpy arrays of further dtypes')
    pkl('numpy/scalars_matrix', {
        'matrix': np.matrix([[1, 2], [3, 4]]), 'i8': np.int8(-3), 'u64': np.uint64(7),
        'f128': np.longdouble(1.5), 'b': np.bool_(True), 'dt64': np.datetime64('2024-01-01T00:00'),
        'str': np.str_('s'),
    }, 'numpy matrix and scalars')
    pkl('numpy/random_generators', {
        'pcg64dxsm': np.random.Generator(np.random.PCG64DXSM(7)), 'seedseq': np.random.SeedSequence(42),
        'mt': np.random.MT19937(3),
    }, 'numpy random generators and SeedSequence')


# ------------------------------------------------------------------------------------------ scipy
def gen_scipy():
    import numpy as np
    from scipy import interpolate, optimize, sparse, spatial, stats
    from scipy.spatial.transform import Rotation
    res = optimize.minimize(lambda x: (x[0] - 1) ** 2 + (x[1] + 2) ** 2, [0.0, 0.0], method='BFGS')
    res.pop('hess_inv', None)
    pkl('scipy/optimize_result', res, 'scipy.optimize.OptimizeResult (a dict subclass)')
    pkl('scipy/least_squares', optimize.least_squares(lambda x: x - 3, [0.0]), 'scipy least_squares result')
    pkl('scipy/frozen_distributions', {
        'norm': stats.norm(0, 1), 'gamma': stats.gamma(2.0, scale=1.5), 'poisson': stats.poisson(3),
        'beta': stats.beta(2, 5), 'mvn': stats.multivariate_normal([0, 0], [[1, 0], [0, 1]]),
    }, 'scipy.stats frozen distributions')
    x = np.linspace(0, 1, 8)
    y = x ** 2
    pkl('scipy/interpolators', {
        'interp1d': interpolate.interp1d(x, y), 'cubic': interpolate.CubicSpline(x, y),
        'pchip': interpolate.PchipInterpolator(x, y), 'akima': interpolate.Akima1DInterpolator(x, y),
        'univariate': interpolate.UnivariateSpline(x, y, s=0),
        'grid': interpolate.RegularGridInterpolator((x, x), np.outer(x, x)),
        'bspline': interpolate.make_interp_spline(x, y),
    }, 'scipy interpolators')
    pts = np.random.RandomState(0).rand(20, 2)
    pkl('scipy/kdtrees', {'kd': spatial.KDTree(pts), 'ckd': spatial.cKDTree(pts)}, 'scipy KD-trees')
    pkl('scipy/rotation', Rotation.from_euler('xyz', [10, 20, 30], degrees=True), 'scipy Rotation')
    pkl('scipy/sparse_formats', {
        'lil': sparse.lil_matrix(np.eye(3)), 'dok': sparse.dok_matrix(np.eye(3)),
        'dia': sparse.dia_matrix(np.eye(3)), 'bsr': sparse.bsr_matrix(np.eye(4)),
        'coo_array': sparse.coo_array(np.eye(2)),
    }, 'scipy sparse matrices in further formats')
    pkl('scipy/kde', stats.gaussian_kde(np.random.RandomState(1).randn(30)), 'scipy gaussian_kde')
    pkl('scipy/histogram_dist', stats.rv_histogram(np.histogram([1, 2, 2, 3, 3, 3], bins=3)),
        'scipy rv_histogram')


# ------------------------------------------------------------------------------------------ sklearn
def gen_sklearn():
    import numpy as np
    from sklearn import (compose, ensemble, gaussian_process, isotonic, kernel_approximation,
                         linear_model, metrics, mixture, neighbors, neural_network, preprocessing, svm)
    from sklearn._loss import loss as sk_loss
    from sklearn.gaussian_process import kernels
    rs = np.random.RandomState(0)
    X = rs.rand(30, 3)
    yc = (X[:, 0] > 0.5).astype(int)
    yr = X @ np.array([1.0, -2.0, 0.5])
    pkl('sklearn/scorers', {
        'acc': metrics.get_scorer('accuracy'), 'f1': metrics.make_scorer(metrics.f1_score, average='macro'),
        'neg_mse': metrics.get_scorer('neg_mean_squared_error'), 'roc': metrics.get_scorer('roc_auc'),
    }, 'scikit-learn scorers')
    pkl('sklearn/loss_objects', {
        'sq': sk_loss.HalfSquaredError(), 'log': sk_loss.HalfBinomialLoss(),
        'pinball': sk_loss.PinballLoss(quantile=0.9), 'multi': sk_loss.HalfMultinomialLoss(n_classes=3),
    }, 'scikit-learn loss objects')
    models = {
        'hist_gb': ensemble.HistGradientBoostingClassifier(max_iter=5).fit(X, yc),
        'mlp': neural_network.MLPRegressor(hidden_layer_sizes=(4,), max_iter=50).fit(X, yr),
        'kn_kdtree': neighbors.KNeighborsClassifier(algorithm='kd_tree', n_neighbors=3).fit(X, yc),
        'kn_balltree': neighbors.KNeighborsRegressor(algorithm='ball_tree', n_neighbors=3).fit(X, yr),
        'gpr': gaussian_process.GaussianProcessRegressor(
            kernel=kernels.RBF() + kernels.WhiteKernel()).fit(X[:10], yr[:10]),
        'isotonic': isotonic.IsotonicRegression().fit(X[:, 0], yr),
        'gmm': mixture.GaussianMixture(2, random_state=0).fit(X),
        'ttr': compose.TransformedTargetRegressor(regressor=linear_model.Ridge(),
                                                  func=np.log1p, inverse_func=np.expm1).fit(X, np.abs(yr)),
        'nystroem': kernel_approximation.Nystroem(n_components=5, random_state=0).fit(X),
        'quantile_tf': preprocessing.QuantileTransformer(n_quantiles=10).fit(X),
        'poly_svr': svm.SVR(kernel='poly', degree=2).fit(X, yr),
        'huber': linear_model.HuberRegressor().fit(X, yr),
        'iso_forest': ensemble.IsolationForest(n_estimators=3, random_state=0).fit(X),
        'func_tf': preprocessing.FunctionTransformer(np.log1p),
    }
    for name, m in models.items():
        pkl('sklearn/%s' % name, m, 'scikit-learn %s' % type(m).__name__, protocols=(4,))
        joblib_file('sklearn/%s.joblib' % name, m, 'scikit-learn %s' % type(m).__name__)


# ------------------------------------------------------------------------------------------ pandas
def gen_pandas():
    import numpy as np
    import pandas as pd
    off = pd.offsets
    pkl('pandas/date_offsets', {
        'month_end': off.MonthEnd(), 'bday': off.BDay(2), 'week': off.Week(weekday=1),
        'dateoffset': pd.DateOffset(months=2, days=1), 'cbday': off.CustomBusinessDay(holidays=['2024-01-01']),
        'quarter': off.QuarterBegin(startingMonth=2), 'hour': off.Hour(3), 'year_end': off.YearEnd(),
    }, 'pandas date offsets')
    pkl('pandas/scalars', {
        'period': pd.Period('2024-03', freq='M'), 'interval': pd.Interval(0, 1, closed='left'),
        'ts_tz': pd.Timestamp('2024-01-01 10:00', tz='Europe/Paris'), 'td': pd.Timedelta('1 days 2 hours'),
        'na': pd.NA, 'nat': pd.NaT,
    }, 'pandas scalars')
    df = pd.DataFrame({
        'i': pd.array([1, None, 3], dtype='Int64'), 'b': pd.array([True, None, False], dtype='boolean'),
        's': pd.array(['a', None, 'c'], dtype='string'), 'cat': pd.Categorical(['x', 'y', 'x']),
        'f': pd.arrays.SparseArray([0.0, 0.0, 1.5]), 'p': pd.period_range('2024-01', periods=3, freq='M'),
        'iv': pd.interval_range(0, 3), 'dt': pd.date_range('2024-01-01', periods=3, tz='UTC'),
    })
    pkl('pandas/extension_frame', df, 'pandas frame of extension dtypes')
    pkl('pandas/indexes', {
        'period': pd.PeriodIndex(['2024-01', '2024-02'], freq='M'), 'td': pd.timedelta_range('1h', periods=2),
        'cat': pd.CategoricalIndex(['a', 'b']), 'iv': pd.IntervalIndex.from_breaks([0, 1, 2]),
        'multi': pd.MultiIndex.from_product([['a', 'b'], [1, 2]]),
        'series': pd.Series(np.arange(3), index=pd.Index(['x', 'y', 'z'], name='k'), name='v'),
    }, 'pandas indexes')


# ------------------------------------------------------------------------------------------ torch
def gen_torch():
    import torch
    from torch import distributions as D
    from torch import nn
    torch.manual_seed(0)
    wn = nn.utils.weight_norm(nn.Linear(3, 2))
    sn = nn.utils.spectral_norm(nn.Linear(3, 2))
    torch_file('torch/weight_norm_module.pt', wn, 'nn.Linear with a weight_norm hook')
    torch_file('torch/spectral_norm_module.pt', sn, 'nn.Linear with a spectral_norm hook')
    torch_file('torch/distributions.pt', {
        'normal': D.Normal(torch.zeros(2), torch.ones(2)), 'cat': D.Categorical(logits=torch.zeros(3)),
        'mvn': D.MultivariateNormal(torch.zeros(2), torch.eye(2)), 'bern': D.Bernoulli(probs=torch.tensor(0.3)),
        'indep': D.Independent(D.Normal(torch.zeros(2), torch.ones(2)), 1),
    }, 'torch.distributions objects')
    torch_file('torch/recurrent_modules.pt', nn.ModuleDict({
        'gru': nn.GRU(2, 2), 'lstm': nn.LSTM(2, 2, batch_first=True), 'emb': nn.EmbeddingBag(5, 2),
        'bn': nn.BatchNorm1d(2), 'ln': nn.LayerNorm(2), 'drop': nn.Dropout(0.1), 'act': nn.GELU(),
    }), 'recurrent, embedding and normalisation modules')
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=10)
    torch_file('torch/training_state.pt', {
        'opt': opt.state_dict(), 'sched': sched.state_dict(), 'rng': torch.get_rng_state(),
        'dtype': torch.bfloat16, 'size': torch.Size([2, 3]),
        'complex': torch.tensor([1 + 1j]), 'half': torch.ones(2, dtype=torch.float16),
    }, 'AdamW + OneCycleLR state, RNG state, dtypes and memory formats')
    torch_file('torch/sgd_cosine.pt', {
        'opt': torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9).state_dict(),
        'sched': torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            torch.optim.SGD(model.parameters(), lr=0.1), T_0=5).state_dict(),
    }, 'SGD + CosineAnnealingWarmRestarts state')
    # A storage over 1 MiB through plain pickle protocol 2: bytes are written as
    # _codecs.encode(text, 'latin1') with text longer than the scanner keeps in memory
    # (once a critical false alarm). gzip keeps the committed file small; every byte
    # value occurs, so the text has one- and two-byte UTF-8 characters.
    import gzip
    big = (torch.arange(1200000) % 251).to(torch.uint8)
    write('torch/large_storage_protocol2.pkl.gz', gzip.compress(pickle.dumps(big, protocol=2), 9, mtime=0),
          'gzip', 'uint8 tensor of 1.2 MB, pickle protocol 2, gzip', 'gzip+pickle.load')


# ------------------------------------------------------------------------------------------ more
def gen_more():
    """Further estimators and objects: xgboost's sklearn wrapper, clustering, decomposition,
    manifold learning, calibration, a ColumnTransformer with a ufunc, torchvision transforms."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.cluster import DBSCAN, Birch
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import NMF, FastICA
    from sklearn.linear_model import PassiveAggressiveClassifier, SGDClassifier
    from sklearn.manifold import Isomap
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.svm import OneClassSVM
    rs = np.random.RandomState(0)
    X = rs.rand(30, 3)
    y = (X[:, 0] > 0.5).astype(int)
    models = {
        'sgd': SGDClassifier(random_state=0).fit(X, y), 'pa': PassiveAggressiveClassifier(random_state=0).fit(X, y),
        'birch': Birch(n_clusters=2).fit(X), 'dbscan': DBSCAN().fit(X), 'nmf': NMF(2, max_iter=20, random_state=0).fit(X),
        'ica': FastICA(2, random_state=0).fit(X), 'isomap': Isomap(n_neighbors=3, n_components=1).fit(X),
        'ocsvm': OneClassSVM().fit(X), 'calibrated': CalibratedClassifierCV(cv=2).fit(X, y),
        'column_tf': ColumnTransformer([('log', FunctionTransformer(np.log1p), [0]),
                                        ('std', StandardScaler(), [1, 2])]).fit(X),
    }
    try:
        import xgboost
        models['xgb'] = xgboost.XGBClassifier(n_estimators=2, max_depth=2).fit(X, y)
    except ImportError as e:
        SKIPPED.append(('more/xgb', str(e)))
    for name, m in models.items():
        pkl('more/%s' % name, m, 'scikit-learn-style %s' % type(m).__name__, protocols=(4,))
        joblib_file('more/%s.joblib' % name, m, type(m).__name__, compress=3)
    try:
        import torch
        import torchvision.transforms as T
        torch_file('more/torchvision_transforms.pt', T.Compose([T.Resize(8), T.CenterCrop(8),
                                                               T.Normalize([0.5], [0.5])]), 'torchvision transforms')
        torch_file('more/grad_scaler.pt', torch.cuda.amp.GradScaler(enabled=False).state_dict(), 'GradScaler state')
    except ImportError as e:
        SKIPPED.append(('more/torchvision', str(e)))


# ------------------------------------------------------------------------------------------ archives
def gen_archives():
    """Release bundles: a tar (and tar.gz) whose first member is a torch zip checkpoint."""
    import tarfile
    import torch
    bio = io.BytesIO()
    torch.save({'w': torch.ones(2)}, bio)
    members = [('release/model.pt', fixed_zip(bio.getvalue())),
               ('release/meta.pkl', pickle.dumps({'epochs': 3, 'classes': ['a', 'b']}, protocol=4)),
               ('release/README.txt', b'tiny model\n')]
    for name, mode in [('archives/release_zip_first.tar', 'w'), ('archives/release_zip_first.tar.gz', 'w:gz')]:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode=mode, format=tarfile.USTAR_FORMAT) as t:
            for mname, d in members:
                ti = tarfile.TarInfo(mname)
                ti.size, ti.mtime = len(d), 0
                t.addfile(ti, io.BytesIO(d))
        data = out.getvalue()
        if mode == 'w:gz':
            data = data[:4] + b'\x00\x00\x00\x00' + data[8:]
        write(name, data, 'tar', 'tar whose first member is a torch zip checkpoint', 'tarfile (every member)')


def verify():
    """Load every file with its loader in one child process; mark what loaded."""
    files = [(e['file'], e['loader']) for e in ENTRIES]
    child = r'''
import json, pickle, sys, warnings
warnings.filterwarnings("ignore")
ok = {}
for rel, loader in json.load(sys.stdin):
    path = sys.argv[1] + "/" + rel
    try:
        if loader == "tarfile (every member)":
            import tarfile, io, torch
            for m in tarfile.open(path).getmembers():
                b = tarfile.open(path).extractfile(m).read()
                if b[:2] == b"PK": torch.load(io.BytesIO(b))
                elif m.name.endswith(".pkl"): pickle.loads(b)
        elif loader == "torch.load":
            import torch; torch.load(path)
        elif loader == "gzip+pickle.load":
            import gzip
            with gzip.open(path, "rb") as f: pickle.load(f)
        elif loader == "joblib.load":
            import joblib; joblib.load(path)
        else:
            with open(path, "rb") as f: pickle.load(f)
        ok[rel] = True
    except Exception as e:
        ok[rel] = repr(e)[:200]
print(json.dumps(ok))
'''
    with tempfile.TemporaryDirectory() as td:
        r = subprocess.run([sys.executable, '-c', child, os.path.join(HERE, 'fixtures')], input=json.dumps(files),
                           capture_output=True, text=True, cwd=td, timeout=600)
    ok = json.loads(r.stdout.strip().splitlines()[-1])
    for e in ENTRIES:
        e['proven'] = ok.get(e['file']) is True
        if not e['proven']:
            SKIPPED.append((e['file'], 'did not load: %s' % ok.get(e['file'])))


def main():
    if os.environ.get('PYTHONHASHSEED') != '0':
        os.environ['PYTHONHASHSEED'] = '0'
        os.execv(sys.executable, [sys.executable] + sys.argv)
    shutil.rmtree(OUT, ignore_errors=True)
    for name, fn in [('stdlib', gen_stdlib), ('numpy', gen_numpy), ('scipy', gen_scipy),
                     ('sklearn', gen_sklearn), ('pandas', gen_pandas), ('torch', gen_torch),
                     ('more', gen_more), ('archives', gen_archives)]:
        attempt(name, fn)
    verify()
    with open(MANIFEST, 'w') as f:
        json.dump(ENTRIES, f, indent=1)
        f.write('\n')
    print('%d files, %d proven' % (len(ENTRIES), sum(e['proven'] for e in ENTRIES)))
    for name, why in SKIPPED:
        print('skipped %s: %s' % (name, why))


if __name__ == '__main__':
    main()
