#!/usr/bin/python3
"""Harvest the allowlist and alias tables systematically from the installed packages.

    /usr/bin/python3 test/harvest_packages.py [OUTPUT]   (default core/policy/data/harvested_packages.txt)

Complements test/harvest_globals.py (which records the globals that real objects it builds
reference) with a walk over the packages themselves, so that the allowlist covers what users
pickle and the harvest never saw:

  * every public class of numpy, scipy, scikit-learn, pandas, torch, torchvision, xgboost (those
    installed), reachable through a public module path, recorded under its canonical
    module.qualname ("module<TAB>qualname" lines: allowlisted);
  * every reconstructor function those classes' __reduce__/__reduce_ex__ emit: each class is
    instantiated with no arguments where that works (and every module-level instance of a package
    class is taken as it is), pickled with protocols 2 and 4, and the globals of the stream are
    recorded (also allowlisted);
  * every public function ("&module<TAB>qualname": may be referenced as data, e.g.
    FunctionTransformer(np.log1p) or a scorer's metric, but is NOT allowlisted for calls);
  * an alias table ("=public<TAB>canonical"), wherever the public spelling of a class or function
    differs from its own module and qualname, so that the policy judges the object and not the
    spelling (a re-export of a denylisted loader stays denylisted).

Every candidate is judged by modelgate's denylist (go run -tags harvest ./test/classify) and dropped when the
denylist covers it; test TestHarvestNotDangerous (core/policy) fails if a committed entry is
dangerous. Modules whose classes do I/O or run code when constructed are not walked at all (see
SKIP). The Debian package versions are written into the header.

Nothing harvested here is loaded from outside: only objects this script creates are pickled.
"""
import importlib
import inspect
import io
import os
import pickle
import pickletools
import pkgutil
import signal
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings('ignore')
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(ROOT, 'core', 'policy', 'data', 'harvested_packages.txt')

PACKAGES = ['numpy', 'scipy', 'sklearn', 'pandas', 'torch', 'torchvision', 'xgboost']
DEBS = ['python3-numpy', 'python3-scipy', 'python3-sklearn', 'python3-pandas', 'python3-torch',
        'python3-torchvision', 'python3-xgboost']

# Module prefixes not walked: their classes read or write files, download, spawn processes or
# threads, compile or run code when constructed, or are test helpers.
SKIP = (
    'numpy.distutils', 'numpy.f2py', 'numpy.testing', 'numpy.lib.npyio', 'numpy.lib.format',
    'numpy.lib._datasource', 'numpy.ctypeslib', 'numpy.conftest', 'numpy.typing', 'numpy._pyinstaller',
    'numpy.array_api', 'numpy.ma.timer_comparison',
    'scipy.io', 'scipy.datasets', 'scipy.integrate._ivp', 'scipy.optimize._differentiable_functions', 'scipy.misc', 'scipy._lib', 'scipy.conftest', 'scipy.LowLevelCallable',
    'sklearn.datasets', 'sklearn.utils._testing', 'sklearn.utils.parallel', 'sklearn.externals',
    'sklearn.conftest', 'sklearn.experimental',
    'pandas.io', 'pandas.plotting', 'pandas.testing', 'pandas.util', 'pandas._testing', 'pandas.conftest',
    'pandas.core.computation', 'pandas.api.extensions',
    'torch.hub', 'torch.jit', 'torch.utils.tensorboard', 'torch.utils.data', 'torch.utils.cpp_extension',
    'torch.utils.benchmark', 'torch.utils.bottleneck', 'torch.utils.collect_env', 'torch.utils.hipify',
    'torch.utils.model_zoo', 'torch.utils.mobile_optimizer', 'torch.utils.bundled_inputs',
    'torch.utils.checkpoint', 'torch.utils.model_dump', 'torch.utils.show_pickle', 'torch.utils.jit',
    'torch.utils.backcompat', 'torch.utils.file_baton', 'torch.utils.dlpack', 'torch.utils._config_module',
    'torch.profiler', 'torch.autograd.profiler', 'torch.autograd.profiler_legacy', 'torch.autograd.profiler_util',
    'torch.autograd.graph', 'torch.ao.sparsity.scheduler', 'torch.ao.pruning.scheduler', 'torch.onnx', 'torch.package', 'torch.cuda', 'torch.backends',
    'torch.distributed', 'torch.multiprocessing', 'torch.fx', 'torch._dynamo', 'torch._inductor',
    'torch.testing', 'torch.compiler', 'torch._export', 'torch.serialization', 'torch.ops', 'torch.classes',
    'torch.library', 'torch.mps', 'torch.monitor', 'torch.overrides', 'torch.contrib',
    'torchvision.datasets', 'torchvision.io', 'torchvision.extension', 'torchvision.utils',
    'torchvision._internally_replaced_utils',
    'xgboost.tracker', 'xgboost.rabit', 'xgboost.collective', 'xgboost.dask', 'xgboost.spark',
    'xgboost.callback', 'xgboost.testing', 'xgboost.federated', 'xgboost.plotting', 'xgboost.libpath',
)
# Classes reached through walked modules whose constructor reads files, or calls an argument.
SKIP_CLASSES = {
    'xgboost.core.DMatrix', 'xgboost.core.DeviceQuantileDMatrix', 'xgboost.core.QuantileDMatrix',
    'numpy.memmap', 'numpy.vectorize', 'numpy.lib.function_base.vectorize',
    'torch.optim.lr_scheduler.LambdaLR', 'torch.optim.lr_scheduler.MultiplicativeLR',
    'scipy.interpolate._rbf.Rbf', 'torch.storage._LegacyStorage',
}


# Native torch classes (torch._C bindings, exported under "torch") include file readers and
# writers and code compilers; only these value types among them are allowlisted.
TORCH_NATIVE_OK = {'Size', 'device', 'dtype', 'layout', 'memory_format', 'qscheme', 'finfo', 'iinfo'}


def native_torch_excluded(mod, qual):
    if mod != 'torch' and not mod.startswith('torch._C'):
        return False
    return not (qual in TORCH_NATIVE_OK or qual.endswith('Storage') or qual.endswith('Tensor'))


def skipped(mod):
    return any(mod == s or mod.startswith(s + '.') for s in SKIP) or '.tests' in mod or '.test_' in mod \
        or mod.endswith('.conftest') or '.testing' in mod or '.benchmarks' in mod


def public(name):
    return not name.startswith('_')


def walk(root):
    """Yield every importable public module path under root."""
    try:
        pkg = importlib.import_module(root)
    except Exception:  # noqa: BLE001
        return
    yield root, pkg, False
    if not hasattr(pkg, '__path__'):
        return
    for info in pkgutil.walk_packages(pkg.__path__, root + '.', onerror=lambda n: None):
        name = info.name
        if '.tests' in name or name.endswith('conftest') or '._vendor' in name or '.externals' in name:
            continue
        if os.environ.get('HARVEST_PUBLIC_ONLY') and not all(public(p) for p in name.split('.')[1:]):
            continue
        try:
            mod = importlib.import_module(name)
        except BaseException:  # noqa: BLE001
            continue
        # Skipped modules are walked for their aliases only (a re-export of
        # a denylisted function must map to it), never allowlisted.
        yield name, mod, skipped(name)


def canonical(obj):
    mod = getattr(obj, '__module__', None)
    qual = getattr(obj, '__qualname__', None) or getattr(obj, '__name__', None)
    if not isinstance(mod, str) or not isinstance(qual, str) or '<' in qual:
        return None
    return mod, qual


def globals_of(data):
    out = set()
    strings = []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ('GLOBAL', 'INST'):
            m, n = arg.split(' ', 1)
            out.add((m, n))
        elif op.name in ('SHORT_BINUNICODE', 'BINUNICODE', 'UNICODE', 'BINUNICODE8'):
            strings.append(arg)
        elif op.name == 'STACK_GLOBAL' and len(strings) >= 2:
            out.add((strings[-2], strings[-1]))
        elif op.name in ('MEMOIZE', 'BINPUT', 'LONG_BINPUT', 'PUT'):
            continue
    return out


class Timeout(Exception):
    pass


def _alarm(*_):
    raise Timeout()


def harvest_package(root):
    classes, funcs, aliases, reconstructors, errors = {}, {}, {}, set(), 0
    instances = []
    for modname, mod, alias_only in walk(root):
        for attr in dir(mod):
            if not public(attr) and not attr.startswith('__pyx_unpickle_'):
                continue
            try:
                obj = getattr(mod, attr)
            except BaseException:  # noqa: BLE001
                continue
            if inspect.ismodule(obj):
                continue
            cn = canonical(obj) if (inspect.isclass(obj) or callable(obj)) else None
            if cn and not cn[0].split('.')[0] == root:
                continue
            public_name = modname + '.' + attr
            private_path = not all(public(p) for p in modname.split('.')[1:])
            if attr.startswith('__pyx_unpickle_') and not alias_only and callable(obj):
                # Cython's reconstructor for a cdef class: Class.__new__(type) after a
                # layout checksum, then __setstate_cython__; as inert as its class.
                reconstructors.add((modname, attr))
                continue
            if private_path and cn and cn[0] != modname:
                continue  # a private module's imports: judged where they are defined
            if private_path:
                aliases_ok = False
            else:
                aliases_ok = True
            if alias_only:
                if cn and (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)):
                    q = cn[0] + '.' + cn[1]
                    if public_name != q:
                        aliases[public_name] = q
                continue
            if inspect.isclass(obj) and cn:
                q = cn[0] + '.' + cn[1]
                if skipped(cn[0]) or q in SKIP_CLASSES or public_name in SKIP_CLASSES or native_torch_excluded(*cn):
                    continue
                classes[q] = cn
                if public_name != q and aliases_ok:
                    aliases[public_name] = q
            elif cn and (inspect.isfunction(obj) or inspect.isbuiltin(obj) or type(obj).__name__ == 'ufunc'):
                q = cn[0] + '.' + cn[1]
                if skipped(cn[0]):
                    continue
                funcs[q] = cn
                if public_name != q and aliases_ok:
                    aliases[public_name] = q
            elif type(obj).__module__.split('.')[0] == root and not callable(obj):
                instances.append(obj)
    signal.signal(signal.SIGALRM, _alarm)
    objs = list(instances)
    with tempfile.TemporaryDirectory() as td:
        cwd = os.getcwd()
        os.chdir(td)
        try:
            for q, cn in sorted(classes.items()):
                cls = getattr(importlib.import_module(cn[0]), cn[1].split('.')[0], None)
                for part in cn[1].split('.')[1:]:
                    cls = getattr(cls, part, None)
                if cls is None or inspect.isabstract(cls):
                    continue
                signal.alarm(2)
                try:
                    objs.append(cls())
                except BaseException:  # noqa: BLE001
                    errors += 1
                finally:
                    signal.alarm(0)
            for obj in objs:
                for proto in (2, 4):
                    signal.alarm(2)
                    try:
                        reconstructors |= globals_of(pickle.dumps(obj, protocol=proto))
                    except BaseException:  # noqa: BLE001
                        pass
                    finally:
                        signal.alarm(0)
        finally:
            os.chdir(cwd)
    return classes, funcs, aliases, reconstructors


def child(root):
    classes, funcs, aliases, recon = harvest_package(root)
    for q, (m, n) in sorted(classes.items()):
        print('C\t%s\t%s' % (m, n))
    for q, (m, n) in sorted(funcs.items()):
        print('F\t%s\t%s' % (m, n))
    for p, q in sorted(aliases.items()):
        print('A\t%s\t%s' % (p, q))
    for m, n in sorted(recon):
        print('R\t%s\t%s' % (m, n))


def deny_filter(names):
    r = subprocess.run(['go', 'run', '-tags', 'harvest', './test/classify'], input='\n'.join(sorted(names)) + '\n', cwd=ROOT,
                       capture_output=True, text=True, check=True)
    return {line.split('\t')[0] for line in r.stdout.splitlines() if line.endswith('\tdangerous')}


def deb_versions():
    out = []
    for d in DEBS:
        r = subprocess.run(['dpkg-query', '-W', '-f=${Version}', d], capture_output=True, text=True)
        if r.returncode == 0:
            out.append('#   %s %s' % (d, r.stdout.strip()))
        else:
            out.append('#   %s (not installed)' % d)
    return out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--child':
        child(sys.argv[2])
        return
    out_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    classes, funcs, aliases, recon = set(), set(), {}, set()
    for root in PACKAGES:
        with tempfile.TemporaryDirectory() as td:
            r = subprocess.run([sys.executable, os.path.abspath(__file__), '--child', root], cwd=td,
                               capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL,
                               env=dict(os.environ, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1'))
        if r.returncode != 0:
            # Importing some private modules crashes the interpreter (pandas): walk the
            # public module paths only for that package.
            with tempfile.TemporaryDirectory() as td:
                r = subprocess.run([sys.executable, os.path.abspath(__file__), '--child', root], cwd=td,
                                   capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL,
                                   env=dict(os.environ, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1',
                                            HARVEST_PUBLIC_ONLY='1'))
        n = 0
        for line in r.stdout.splitlines():
            f = line.split('\t')
            if len(f) != 3:
                continue
            n += 1
            kind, a, b = f
            if kind == 'C':
                classes.add((a, b))
            elif kind == 'F':
                funcs.add((a, b))
            elif kind == 'A':
                aliases[a] = b
            elif kind == 'R':
                recon.add((a, b))
        print('%-12s %6d lines (rc=%d)' % (root, n, r.returncode), file=sys.stderr)
    # reconstructors: only those of the walked packages, and not functions the policy judges by argument
    recon = {(m, n) for m, n in recon if m.split('.')[0] in PACKAGES and not skipped(m)
             and not (native_torch_excluded(m, n) and n[:1].isupper())}
    names = {m + '.' + n for m, n in classes | funcs | recon} | set(aliases) | set(aliases.values())
    dangerous = deny_filter(names)
    safe = sorted({(m, n) for m, n in classes | recon if m + '.' + n not in dangerous})
    safe_set = {m + '.' + n for m, n in safe}
    refs = sorted({(m, n) for m, n in funcs if m + '.' + n not in dangerous and m + '.' + n not in safe_set})
    # Aliases that change a verdict: a public spelling the denylist does not cover for an object
    # it does (pickles name objects by their canonical module and qualname, so aliases of
    # allowlisted objects change nothing for real files; re-exports of dangerous ones are bypasses).
    al = sorted((p, q) for p, q in aliases.items() if p != q and q in dangerous and p not in dangerous)
    with open(out_path, 'w') as f:
        f.write('# harvested_packages.txt - allowlist and alias tables walked from the installed packages.\n')
        f.write('# Generated by test/harvest_packages.py (do not edit by hand; re-run it). Lines:\n')
        f.write('#   module<TAB>qualname    public class or reconstructor: allowlisted\n')
        f.write('#   &module<TAB>qualname   public function: may be referenced as data, not called\n')
        f.write('#   =public<TAB>canonical  alias: a public spelling of a denylisted object that the denylist misses\n')
        f.write('# Debian package versions:\n')
        f.write('\n'.join(deb_versions()) + '\n')
        f.write('#   python3 %s\n' % sys.version.split()[0])
        f.write('# %d allowlisted, %d reference-only, %d aliases; %d candidates dropped as denylisted\n'
                % (len(safe), len(refs), len(al), len(dangerous)))
        for m, n in safe:
            f.write('%s\t%s\n' % (m, n))
        for m, n in refs:
            f.write('&%s\t%s\n' % (m, n))
        for p, q in al:
            f.write('=%s\t%s\n' % (p, q))
    print('%d allowlisted, %d reference-only, %d aliases, %d dropped' % (len(safe), len(refs), len(al),
                                                                       len(dangerous)), file=sys.stderr)


if __name__ == '__main__':
    main()
