#!/usr/bin/python3
"""Generate modelgate's model-directory fixtures (MLflow, Hugging Face).

Run from the repository root:

    /usr/bin/python3 test/gen_modeldir_fixtures.py

Writes test/fixtures/benign/modeldirs/, test/fixtures/malicious/modeldirs/,
core/formats/tfsavedmodel/testdata/keras_metadata_v6_*.pb (keras_metadata.pb as TF-Keras 2.6+ writes it) and
test/fixtures/modeldirs-manifest.json (not manifest-*.json: those list single files, these are directories).

mlflow is not installable here (no PyPI), so every MLmodel file is written by hand to MLflow's documented
layout (the keys mlflow.<flavor>.save_model writes: flavors.python_function.loader_module, python_model,
code, model_code_path, env; flavors.sklearn.pickled_model and serialization_format; flavors.pytorch.model_data
and data/pickle_module_info.txt; flavors.xgboost.data, model_class, model_format; flavors.onnx.data). The
artifacts inside come from the real libraries: Debian's python3-sklearn, -torch, -xgboost, -onnx, -cloudpickle.

Proofs. Benign artifacts are loaded by their real library in a subprocess (cloudpickle.load, torch.load,
xgboost.Booster.load_model, onnx.load + checker) and must not touch the marker. Malicious artifacts whose loader
is available are proven live with it (a gzip-compressed cloudpickle loaded with gzip.open + cloudpickle.load, as
mlflow's _maybe_decompress_cloudpickle_load does; a pickle disguised as a safetensors shard, loaded by
torch.load). Attacks that only MLflow's or transformers' loader would trigger (loader_module, code/ shadowing,
models from code, auto_map) cannot be proven with the real loader: "proven" is false, and "emulated" records
whether a few lines that follow the loader's documented steps (code directory first on sys.path, import
loader_module and call _load_pyfunc, execute model_code_path; import the auto_map module) touched the marker.
Payloads only touch the marker file ($MODELGATE_MARKER).
"""
import base64
import gzip
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
BENIGN = os.path.join(ROOT, 'benign', 'modeldirs')
MALICIOUS = os.path.join(ROOT, 'malicious', 'modeldirs')
MANIFEST = []
PAYLOAD = "import os\nopen(os.environ.get('MODELGATE_MARKER', '/tmp/modelgate-marker'), 'a').close()\n"


def run(code, cwd=None):
    """Run code in a fresh interpreter; return (marker created, returncode, last stderr line)."""
    with tempfile.TemporaryDirectory(prefix='mg-proof-') as td:
        marker = os.path.join(td, 'marker')
        env = dict(os.environ, MODELGATE_MARKER=marker)
        env.pop('PYTHONPATH', None)
        r = subprocess.run([sys.executable, '-c', code], cwd=cwd or td, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=300)
        return os.path.exists(marker), r.returncode, r.stderr.strip().splitlines()[-1:]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = 'wb' if isinstance(data, bytes) else 'w'
    with open(path, mode) as f:
        f.write(data)


def mlmodel(flavors, run_id='0123456789abcdef0123456789abcdef'):
    """MLflow's MLmodel layout, keys sorted as yaml.safe_dump writes them."""
    out = ['artifact_path: model', 'flavors:']

    def emit(v, ind):
        for k in sorted(v):
            x = v[k]
            if isinstance(x, dict):
                out.append(' ' * ind + k + ':')
                emit(x, ind + 2)
            elif x is None:
                out.append(' ' * ind + k + ': null')
            else:
                out.append(' ' * ind + k + ': ' + str(x))
    emit(flavors, 2)
    out += ['mlflow_version: 2.12.1', 'model_uuid: 5c1d0c3b8e2a4f0e9d7a6b5c4d3e2f1a', 'run_id: ' + run_id,
            "utc_time_created: '2026-11-30 10:00:00.000000'", '']
    return '\n'.join(out)


ENV = {'conda': 'conda.yaml', 'virtualenv': 'python_env.yaml'}


def env_files(d):
    write(os.path.join(d, 'conda.yaml'), 'channels:\n- conda-forge\ndependencies:\n- python=3.11.2\n- pip\nname: mlflow-env\n')
    write(os.path.join(d, 'python_env.yaml'), 'python: 3.11.2\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n')
    write(os.path.join(d, 'requirements.txt'), 'mlflow==2.12.1\ncloudpickle==2.1.0\n')


def add(rel, label, technique, expect, loader, proven, emulated=None, notes=None):
    e = {'dir': rel, 'label': label, 'technique': technique, 'expect': expect, 'loader': loader, 'proven': proven,
         'mlmodel_handwritten': rel.split('/')[-1].startswith(('mlflow_',)),}
    if emulated is not None:
        e['emulated'] = emulated
    if notes:
        e['notes'] = notes
    MANIFEST.append(e)


def check(ok, what):
    if not ok:
        sys.exit('proof failed: ' + what)


class Evil:
    """Pickles to os.system-free marker touch via builtins.exec."""

    def __reduce__(self):
        return (exec, (PAYLOAD,))


# ---------------------------------------------------------------- benign MLflow

def benign_sklearn():
    import cloudpickle
    from sklearn.linear_model import LogisticRegression
    d = os.path.join(BENIGN, 'mlflow_sklearn')
    m = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [0.5, 0.4], [0.9, 0.1]], [0, 1, 0, 1])
    write(os.path.join(d, 'model.pkl'), cloudpickle.dumps(m))
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'env': ENV, 'loader_module': 'mlflow.sklearn', 'model_path': 'model.pkl',
                            'predict_fn': 'predict', 'python_version': '3.11.2'},
        'sklearn': {'code': None, 'pickled_model': 'model.pkl', 'serialization_format': 'cloudpickle',
                    'sklearn_version': '1.2.1'}}))
    env_files(d)
    marker, rc, err = run('import cloudpickle; m = cloudpickle.load(open(%r, "rb")); print(m.predict([[0.1, 0.9]]))'
                          % os.path.join(d, 'model.pkl'))
    check(rc == 0 and not marker, 'sklearn %s' % err)
    add('benign/modeldirs/mlflow_sklearn', 'benign', 'MLflow sklearn flavor: cloudpickled LogisticRegression',
        {'model': 'mlflow', 'framework': 'sklearn'}, 'cloudpickle.load (what mlflow.sklearn._load_model_from_local_file does)', True)


def benign_pytorch():
    import torch
    import cloudpickle
    d = os.path.join(BENIGN, 'mlflow_pytorch')
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    os.makedirs(os.path.join(d, 'data'), exist_ok=True)
    # mlflow.pytorch saves the whole module with its pickle module (a cloudpickle wrapper); cloudpickle is
    # what it wraps.
    torch.save(net, os.path.join(d, 'data', 'model.pth'), pickle_module=cloudpickle)
    write(os.path.join(d, 'data', 'pickle_module_info.txt'), 'mlflow.pytorch.pickle_module')
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'data': 'data', 'env': ENV, 'loader_module': 'mlflow.pytorch', 'pickle_module_name': 'mlflow.pytorch.pickle_module',
                            'python_version': '3.11.2'},
        'pytorch': {'code': None, 'model_data': 'data', 'pytorch_version': torch.__version__}}))
    env_files(d)
    marker, rc, err = run('import torch; m = torch.load(%r); print(m(torch.zeros(1, 4)))' % os.path.join(d, 'data', 'model.pth'))
    check(rc == 0 and not marker, 'pytorch %s' % err)
    add('benign/modeldirs/mlflow_pytorch', 'benign', 'MLflow pytorch flavor: torch.save of a whole nn.Sequential',
        {'model': 'mlflow', 'framework': 'pytorch'}, 'torch.load', True)


def benign_xgboost():
    import numpy as np
    import xgboost as xgb
    d = os.path.join(BENIGN, 'mlflow_xgboost')
    os.makedirs(d, exist_ok=True)
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.4], [0.9, 0.1]])
    b = xgb.train({'max_depth': 2, 'objective': 'binary:logistic'}, xgb.DMatrix(X, label=[0, 1, 0, 1]), 2)
    b.save_model(os.path.join(d, 'model.json'))
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'data': 'model.json', 'env': ENV, 'loader_module': 'mlflow.xgboost', 'python_version': '3.11.2'},
        'xgboost': {'code': None, 'data': 'model.json', 'model_class': 'xgboost.core.Booster', 'model_format': 'json',
                    'xgb_version': xgb.__version__}}))
    env_files(d)
    marker, rc, err = run('import xgboost; b = xgboost.Booster(); b.load_model(%r)' % os.path.join(d, 'model.json'))
    check(rc == 0 and not marker, 'xgboost %s' % err)
    add('benign/modeldirs/mlflow_xgboost', 'benign', 'MLflow xgboost flavor: Booster saved as JSON',
        {'model': 'mlflow', 'framework': 'xgboost'}, 'xgboost.Booster.load_model', True)


def benign_onnx():
    import onnx
    import onnx.helper as h
    from onnx import TensorProto, numpy_helper
    import numpy as np
    d = os.path.join(BENIGN, 'mlflow_onnx')
    os.makedirs(d, exist_ok=True)
    w = numpy_helper.from_array(np.ones((2, 1), dtype=np.float32), 'W')
    g = h.make_graph([h.make_node('MatMul', ['X', 'W'], ['Y'])], 'linear',
                     [h.make_tensor_value_info('X', TensorProto.FLOAT, [1, 2])],
                     [h.make_tensor_value_info('Y', TensorProto.FLOAT, [1, 1])], [w])
    m = h.make_model(g, producer_name='modelgate-fixture', opset_imports=[h.make_opsetid('', 13)])
    m.ir_version = 8
    onnx.save(m, os.path.join(d, 'model.onnx'))
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'data': 'model.onnx', 'env': ENV, 'loader_module': 'mlflow.onnx', 'python_version': '3.11.2'},
        'onnx': {'code': None, 'data': 'model.onnx', 'onnx_version': onnx.__version__,
                 'providers': "['CPUExecutionProvider']"}}))
    env_files(d)
    marker, rc, err = run('import onnx; m = onnx.load(%r); onnx.checker.check_model(m)' % os.path.join(d, 'model.onnx'))
    check(rc == 0 and not marker, 'onnx %s' % err)
    add('benign/modeldirs/mlflow_onnx', 'benign', 'MLflow onnx flavor: MatMul model',
        {'model': 'mlflow', 'framework': 'onnx'}, 'onnx.load + onnx.checker.check_model', True)


def benign_pyfunc():
    import cloudpickle
    d = os.path.join(BENIGN, 'mlflow_pyfunc_plain')
    # A python_model that is plain data: what a PythonModel subclass defined in an importable module
    # pickles to is a class reference plus a dict; with no such module here, the dict alone is the content.
    write(os.path.join(d, 'python_model.pkl'), cloudpickle.dumps({'threshold': 0.5, 'labels': ['no', 'yes']}))
    write(os.path.join(d, 'artifacts', 'lookup.json'), '{"a": 1}\n')
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'artifacts': {'lookup': {'path': 'artifacts/lookup.json', 'uri': '/tmp/lookup.json'}},
                            'cloudpickle_version': cloudpickle.__version__, 'code': None, 'env': ENV,
                            'loader_module': 'mlflow.pyfunc.model', 'python_model': 'python_model.pkl',
                            'python_version': '3.11.2'}}))
    env_files(d)
    marker, rc, err = run('import cloudpickle; print(cloudpickle.load(open(%r, "rb")))' % os.path.join(d, 'python_model.pkl'))
    check(rc == 0 and not marker, 'pyfunc %s' % err)
    add('benign/modeldirs/mlflow_pyfunc_plain', 'benign', 'MLflow pyfunc with a cloudpickled python_model that is plain data and an artifact',
        {'model': 'mlflow', 'framework': 'python_function'}, 'cloudpickle.load', True)


# ---------------------------------------------------------------- held-out benign (not used while writing the analyzers)

HELDOUT = os.path.join(ROOT, 'benign', 'modeldirs-heldout')
SIGNATURE = ("signature:\n  inputs: '[{\"type\": \"double\", \"name\": \"tenure\", \"required\": true}, "
             "{\"type\": \"double\", \"name\": \"charges\", \"required\": true}]'\n"
             "  outputs: '[{\"type\": \"long\", \"required\": true}]'\n  params: null\n")


def heldout_sklearn_pipeline():
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.ensemble import RandomForestClassifier
    d = os.path.join(HELDOUT, 'mlflow_sklearn_pipeline_pickle')
    m = Pipeline([('scale', StandardScaler()), ('rf', RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0))])
    m.fit([[0.0, 1.0], [1.0, 0.0], [0.5, 0.4], [0.9, 0.1]], [0, 1, 0, 1])
    write(os.path.join(d, 'model.pkl'), pickle.dumps(m, protocol=4))
    text = mlmodel({
        'python_function': {'env': ENV, 'loader_module': 'mlflow.sklearn', 'model_path': 'model.pkl',
                            'predict_fn': 'predict_proba', 'python_version': '3.11.2'},
        'sklearn': {'code': None, 'pickled_model': 'model.pkl', 'serialization_format': 'pickle',
                    'sklearn_version': '1.2.1'}})
    write(os.path.join(d, 'MLmodel'), text.replace('mlflow_version:', SIGNATURE + 'mlflow_version:'))
    write(os.path.join(d, 'input_example.json'), '{"columns": ["tenure", "charges"], "data": [[1.0, 2.0]]}\n')
    env_files(d)
    marker, rc, err = run('import pickle; m = pickle.load(open(%r, "rb")); print(m.predict([[0.1, 0.9]]))' % os.path.join(d, 'model.pkl'))
    check(rc == 0 and not marker, 'sklearn pipeline %s' % err)
    add('benign/modeldirs-heldout/mlflow_sklearn_pipeline_pickle', 'benign',
        'held out: MLflow sklearn flavor, plain pickle of a StandardScaler + RandomForest pipeline, with a signature',
        {'model': 'mlflow', 'framework': 'sklearn'}, 'pickle.load', True)


def heldout_hf_bin_shards():
    import torch
    d = os.path.join(HELDOUT, 'hf_pytorch_bin_shards')
    hf_config(d, {'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2'})
    torch.manual_seed(0)
    sd = {'wte.weight': torch.randn(4, 2), 'h.0.attn.c_attn.weight': torch.randn(2, 6)}
    torch.save({'wte.weight': sd['wte.weight']}, os.path.join(d, 'pytorch_model-00001-of-00002.bin'))
    torch.save({'h.0.attn.c_attn.weight': sd['h.0.attn.c_attn.weight']}, os.path.join(d, 'pytorch_model-00002-of-00002.bin'))
    index(d, 'pytorch_model.bin.index.json', {'pytorch_model-00001-of-00002.bin': ['wte.weight'],
                                               'pytorch_model-00002-of-00002.bin': ['h.0.attn.c_attn.weight']})
    write(os.path.join(d, 'generation_config.json'), '{"bos_token_id": 0, "eos_token_id": 0}\n')
    write(os.path.join(d, 'tokenizer_config.json'), json.dumps({'tokenizer_class': 'GPT2Tokenizer', 'model_max_length': 1024}) + '\n')
    for shard in ('pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin'):
        marker, rc, err = run('import torch; print(list(torch.load(%r, weights_only=True)))' % os.path.join(d, shard)
                              if 'weights_only' in torch.load.__code__.co_varnames else
                              'import torch; print(list(torch.load(%r)))' % os.path.join(d, shard))
        check(rc == 0 and not marker, 'bin shard %s' % err)
    add('benign/modeldirs-heldout/hf_pytorch_bin_shards', 'benign',
        'held out: GPT-2 style repository with two torch.save state-dict shards and pytorch_model.bin.index.json',
        {'model': 'huggingface'}, 'torch.load', True)


# ---------------------------------------------------------------- malicious MLflow

EMULATE_PYFUNC = (
    "import importlib, os, sys, yaml\n"
    "d = %r\n"
    "conf = yaml.safe_load(open(os.path.join(d, 'MLmodel')))['flavors']['python_function']\n"
    "# mlflow.pyfunc.load_model: code directory first on sys.path, modules found there dropped from the cache\n"
    "if conf.get('code'):\n"
    "    cd = os.path.join(d, conf['code'])\n"
    "    sys.path.insert(0, cd)\n"
    "    for n in os.listdir(cd):\n"
    "        sys.modules.pop(n[:-3] if n.endswith('.py') else n, None)\n"
    "if conf.get('model_code_path'):\n"
    "    import runpy; runpy.run_path(os.path.join(d, os.path.basename(conf['model_code_path'])))\n"
    "else:\n"
    "    mod = importlib.import_module(conf['loader_module'])\n"
    "    if conf['loader_module'] == 'mlflow.pyfunc.model':\n"
    "        pass\n"
    "    else:\n"
    "        mod._load_pyfunc(os.path.join(d, conf.get('data', '')))\n"
    "    import cloudpickle\n"
    "    if conf.get('python_model'):\n"
    "        cloudpickle.load(open(os.path.join(d, conf['python_model']), 'rb'))\n"
)


def emulate(d):
    """Run the documented pyfunc loading steps (mlflow itself is not installable); True if the marker appeared."""
    marker, rc, err = run(EMULATE_PYFUNC % d)
    return marker


def mal_loader_module():
    d = os.path.join(MALICIOUS, 'mlflow_loader_module')
    write(os.path.join(d, 'code', 'churn_loader.py'), PAYLOAD + "\ndef _load_pyfunc(path):\n    return None\n")
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'code': 'code', 'data': 'model.pkl', 'env': ENV, 'loader_module': 'churn_loader',
                            'python_version': '3.11.2'}}))
    write(os.path.join(d, 'model.pkl'), pickle.dumps({'weights': [0.1, 0.2]}, protocol=4))
    env_files(d)
    em = emulate(d)
    check(em, 'loader_module emulation')
    add('malicious/modeldirs/mlflow_loader_module', 'malicious',
        'python_function.loader_module names a module shipped in code/ (no pickle payload at all)',
        {'rule': 'MG1001', 'severity': 'critical', 'path': 'MLmodel'},
        'mlflow.pyfunc.load_model (emulated: mlflow is not installable)', False, em)


def mal_code_shadow():
    import cloudpickle
    d = os.path.join(MALICIOUS, 'mlflow_code_shadowing')
    # cloudpickle is what the loader imports to read python_model.pkl; the bundled copy runs first.
    write(os.path.join(d, 'code', 'cloudpickle.py'), PAYLOAD + "import pickle\nload = pickle.load\n")
    write(os.path.join(d, 'python_model.pkl'), cloudpickle.dumps({'threshold': 0.5}))
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'cloudpickle_version': '2.1.0', 'code': 'code', 'env': ENV,
                            'loader_module': 'mlflow.pyfunc.model', 'python_model': 'python_model.pkl',
                            'python_version': '3.11.2'}}))
    env_files(d)
    em = run(EMULATE_PYFUNC.replace("mod = importlib.import_module(conf['loader_module'])", "mod = None") % d)[0]
    check(em, 'code shadowing emulation')
    add('malicious/modeldirs/mlflow_code_shadowing', 'malicious',
        'code/cloudpickle.py shadows the cloudpickle the pyfunc loader imports to read python_model.pkl',
        {'rule': 'MG1002', 'severity': 'critical', 'path': 'code/cloudpickle.py'},
        'mlflow.pyfunc.load_model (emulated: mlflow is not installable)', False, em)


def mal_models_from_code():
    d = os.path.join(MALICIOUS, 'mlflow_models_from_code')
    write(os.path.join(d, 'agent.py'), PAYLOAD + "\nclass Agent:\n    def predict(self, context, model_input):\n        return model_input\n")
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'env': ENV, 'loader_module': 'mlflow.pyfunc.model',
                            'model_code_path': '/home/alice/project/agent.py', 'python_version': '3.11.2'}}))
    env_files(d)
    em = emulate(d)
    check(em, 'models-from-code emulation')
    add('malicious/modeldirs/mlflow_models_from_code', 'malicious',
        'models from code: model_code_path names agent.py, which the loader executes (reported for review)',
        {'rule': 'MG1003', 'severity': 'medium', 'path': 'agent.py'},
        'mlflow.pyfunc.load_model (emulated: mlflow is not installable)', False, em)


def mal_gzip_python_model():
    import cloudpickle
    d = os.path.join(MALICIOUS, 'mlflow_gzip_python_model')
    write(os.path.join(d, 'python_model.pkl'), gzip.compress(cloudpickle.dumps(Evil()), mtime=0))
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'cloudpickle_version': cloudpickle.__version__, 'code': None, 'env': ENV,
                            'loader_module': 'mlflow.pyfunc.model', 'python_model': 'python_model.pkl',
                            'python_model_compression': 'gzip', 'python_version': '3.11.2'}}))
    env_files(d)
    marker, rc, err = run('import gzip, cloudpickle; cloudpickle.load(gzip.open(%r, "rb"))' % os.path.join(d, 'python_model.pkl'))
    check(marker, 'gzip python_model %s' % err)
    add('malicious/modeldirs/mlflow_gzip_python_model', 'malicious',
        'python_model.pkl is a gzip-compressed cloudpickle that runs exec (a published bypass of a peer scanner)',
        {'rule': 'MG101', 'severity': 'critical', 'path': 'python_model.pkl'},
        'gzip.open + cloudpickle.load (what _maybe_decompress_cloudpickle_load does for python_model_compression: gzip)', True)


def mal_path_escape():
    d = os.path.join(MALICIOUS, 'mlflow_path_escape')
    write(os.path.join(d, 'MLmodel'), mlmodel({
        'python_function': {'env': ENV, 'loader_module': 'mlflow.sklearn', 'model_path': '../../../../tmp/planted.pkl',
                            'python_version': '3.11.2'},
        'sklearn': {'code': None, 'pickled_model': '../../../../tmp/planted.pkl', 'serialization_format': 'cloudpickle',
                    'sklearn_version': '1.2.1'}}))
    env_files(d)
    add('malicious/modeldirs/mlflow_path_escape', 'malicious',
        'sklearn.pickled_model climbs out of the model directory to a pickle planted elsewhere',
        {'rule': 'MG1004', 'severity': 'high', 'path': 'MLmodel'},
        'mlflow.sklearn._load_pyfunc joins the path to the model directory', False,
        notes='mlflow is not installable; the escape is a property of the path (os.path.join keeps the ..)')


# ---------------------------------------------------------------- Hugging Face

def safetensors_bytes(tensors):
    """safetensors layout: u64 header length, JSON header, data (what the library writes)."""
    header, data = {}, b''
    for name, vals in tensors.items():
        raw = struct.pack('<%df' % len(vals), *vals)
        header[name] = {'dtype': 'F32', 'shape': [len(vals)], 'data_offsets': [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + data


def hf_config(d, extra=None):
    cfg = {'architectures': ['BertModel'], 'hidden_size': 4, 'model_type': 'bert', 'num_attention_heads': 1,
           'num_hidden_layers': 1, 'transformers_version': '4.46.0', 'vocab_size': 8}
    cfg.update(extra or {})
    write(os.path.join(d, 'config.json'), json.dumps(cfg, indent=2, sort_keys=True) + '\n')


def index(d, name, shards):
    wm = {}
    for shard, tensors in shards.items():
        for t in tensors:
            wm[t] = shard
    write(os.path.join(d, name), json.dumps({'metadata': {'total_size': 32}, 'weight_map': wm}, indent=2, sort_keys=True) + '\n')


def benign_hf():
    d = os.path.join(BENIGN, 'hf_sharded_bert')
    hf_config(d)
    write(os.path.join(d, 'model-00001-of-00002.safetensors'), safetensors_bytes({'embeddings.weight': [0.1, 0.2, 0.3, 0.4]}))
    write(os.path.join(d, 'model-00002-of-00002.safetensors'), safetensors_bytes({'pooler.weight': [0.5, 0.6, 0.7, 0.8]}))
    index(d, 'model.safetensors.index.json', {'model-00001-of-00002.safetensors': ['embeddings.weight'],
                                              'model-00002-of-00002.safetensors': ['pooler.weight']})
    write(os.path.join(d, 'tokenizer_config.json'), json.dumps({'model_max_length': 512, 'tokenizer_class': 'BertTokenizer'}, indent=2) + '\n')
    shutil.copy(os.path.join(ROOT, '..', '..', 'core', 'jinja', 'testdata', 'benign', 'deepseek_coder.jinja'),
                os.path.join(d, 'chat_template.jinja'))
    add('benign/modeldirs/hf_sharded_bert', 'benign',
        'Hugging Face repo: config.json, two safetensors shards with their index, tokenizer config and chat_template.jinja (a published template)',
        {'model': 'huggingface'}, 'shards written to the safetensors layout (no python3-safetensors in Debian)', False,
        notes='no transformers here; the template is DeepSeek Coder\'s, also in core/jinja/testdata/benign')


def mal_hf_auto_map():
    d = os.path.join(MALICIOUS, 'hf_auto_map')
    hf_config(d, {'architectures': ['ChurnModel'], 'model_type': 'churn',
                  'auto_map': {'AutoConfig': 'configuration_churn.ChurnConfig', 'AutoModel': 'modeling_churn.ChurnModel'}})
    write(os.path.join(d, 'configuration_churn.py'), 'class ChurnConfig:\n    model_type = "churn"\n')
    write(os.path.join(d, 'modeling_churn.py'), PAYLOAD + '\nclass ChurnModel:\n    pass\n')
    write(os.path.join(d, 'model.safetensors'), safetensors_bytes({'w': [0.1, 0.2]}))
    em = run('import sys; sys.path.insert(0, %r); import modeling_churn' % d)[0]
    check(em, 'auto_map emulation')
    add('malicious/modeldirs/hf_auto_map', 'malicious',
        'config.json auto_map sends AutoModel to modeling_churn.py, which runs on import with trust_remote_code=True',
        {'rule': 'MG1005', 'severity': 'medium', 'path': 'modeling_churn.py'},
        'transformers AutoModel.from_pretrained(trust_remote_code=True) (emulated: transformers is not installed)', False, em)


def mal_hf_missing_shard():
    d = os.path.join(MALICIOUS, 'hf_missing_shard')
    hf_config(d)
    write(os.path.join(d, 'model-00001-of-00002.safetensors'), safetensors_bytes({'embeddings.weight': [0.1, 0.2]}))
    index(d, 'model.safetensors.index.json', {'model-00001-of-00002.safetensors': ['embeddings.weight'],
                                              'model-00002-of-00002.safetensors': ['pooler.weight']})
    add('malicious/modeldirs/hf_missing_shard', 'malicious',
        'the weight map names model-00002-of-00002.safetensors, which is not there (what the loader reads was never scanned)',
        {'unscanned': 'MG907', 'path': 'model.safetensors.index.json'}, 'transformers from_pretrained', False,
        notes='an integrity failure rather than a payload: reported as not scanned, which fails the default policy')


def mal_hf_disguised_shard():
    import torch
    d = os.path.join(MALICIOUS, 'hf_disguised_shard')
    hf_config(d)
    write(os.path.join(d, 'model-00001-of-00002.safetensors'), safetensors_bytes({'embeddings.weight': [0.1, 0.2]}))
    buf = io.BytesIO()
    torch.save({'pooler.weight': torch.zeros(2), 'x': Evil()}, buf)
    p = os.path.join(d, 'model-00002-of-00002.safetensors')
    write(p, buf.getvalue())
    index(d, 'model.safetensors.index.json', {'model-00001-of-00002.safetensors': ['embeddings.weight'],
                                              'model-00002-of-00002.safetensors': ['pooler.weight']})
    marker, rc, err = run('import torch; torch.load(%r)' % p)
    check(marker, 'disguised shard %s' % err)
    add('malicious/modeldirs/hf_disguised_shard', 'malicious',
        'shard 2 is named .safetensors but is a PyTorch zip whose pickle runs exec',
        {'rule': 'MG1006', 'severity': 'high', 'path': 'model-00002-of-00002.safetensors'},
        'torch.load (what a loader that falls back from safetensors to torch runs)', True)


def mal_hf_chat_template():
    d = os.path.join(MALICIOUS, 'hf_chat_template_jinja')
    write(os.path.join(d, 'tokenizer_config.json'), json.dumps({'tokenizer_class': 'PreTrainedTokenizerFast', 'model_max_length': 512}, indent=2) + '\n')
    write(os.path.join(d, 'tokenizer.json'), '{"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}}\n')
    shutil.copy(os.path.join(ROOT, '..', '..', 'core', 'jinja', 'testdata', 'malicious', 'cycler_globals.jinja'),
                os.path.join(d, 'chat_template.jinja'))
    em = run('import jinja2; jinja2.Environment().from_string(open(%r).read()).render(messages=[])' % os.path.join(d, 'chat_template.jinja'))[0]
    add('malicious/modeldirs/hf_chat_template_jinja', 'malicious',
        'chat_template.jinja next to the tokenizer reaches os.popen through cycler globals',
        {'rule': 'MG601', 'severity': 'critical', 'path': 'chat_template.jinja'},
        'jinja2.Environment().render (unsandboxed: llama.cpp-python class); transformers renders in a sandbox', False, em,
        notes='the unsandboxed render touched the marker' if em else None)


# ---------------------------------------------------------------- keras_metadata.pb (current proto)

TFDATA = os.path.join(ROOT, '..', '..', 'core', 'formats', 'tfsavedmodel', 'testdata')


def keras_metadata_classes():
    """SavedMetadata / SavedObject / VersionDef built with the protobuf runtime from the field layout of
    keras/protobuf/saved_metadata.proto and versions.proto as TF-Keras 2.6+ ship them: field 1 of SavedObject
    is reserved, node_id = 2, node_path = 3, identifier = 4, metadata = 5, version = 6."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    F = descriptor_pb2.FieldDescriptorProto
    fd = descriptor_pb2.FileDescriptorProto(name='modelgate_keras_saved_metadata.proto',
                                            package='third_party.py.keras.protobuf', syntax='proto3')
    v = fd.message_type.add(name='VersionDef')
    for n, num in (('producer', 1), ('min_consumer', 2)):
        v.field.add(name=n, number=num, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    v.field.add(name='bad_consumers', number=3, type=F.TYPE_INT32, label=F.LABEL_REPEATED)
    o = fd.message_type.add(name='SavedObject')
    o.reserved_range.add(start=1, end=2)
    o.field.add(name='node_id', number=2, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    o.field.add(name='node_path', number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    o.field.add(name='identifier', number=4, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    o.field.add(name='metadata', number=5, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    o.field.add(name='version', number=6, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                type_name='.third_party.py.keras.protobuf.VersionDef')
    m = fd.message_type.add(name='SavedMetadata')
    m.field.add(name='nodes', number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                type_name='.third_party.py.keras.protobuf.SavedObject')
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    get = getattr(message_factory, 'GetMessageClass', None) or message_factory.MessageFactory(pool).GetPrototype
    return get(pool.FindMessageTypeByName('third_party.py.keras.protobuf.SavedMetadata'))


def keras_metadata_v6():
    import marshal
    SavedMetadata = keras_metadata_classes()

    def build(layers):
        md = SavedMetadata()
        model = {'name': 'sequential', 'class_name': 'Sequential', 'keras_version': '2.13.1', 'backend': 'tensorflow',
                 'config': {'name': 'sequential', 'layers': layers}}
        for i, (path, ident, meta) in enumerate([('root', '_tf_keras_sequential', model)] +
                                                [('root.layer-%d' % i, '_tf_keras_layer', l) for i, l in enumerate(layers)]):
            n = md.nodes.add(node_id=i, node_path=path, identifier=ident, metadata=json.dumps(meta))
            n.version.producer = 2
            n.version.min_consumer = 1
        return md.SerializeToString()
    dense = {'class_name': 'Dense', 'config': {'name': 'dense', 'units': 2, 'activation': 'relu'}}
    code = base64.b64encode(marshal.dumps(compile('lambda x: x', '<lambda>', 'eval'))).decode()
    lam = {'class_name': 'Lambda', 'config': {'name': 'lambda', 'function': [code, None, None],
                                              'function_type': 'lambda', 'module': '__main__'}}
    write(os.path.join(TFDATA, 'keras_metadata_v6_dense.pb'), build([dense]))
    write(os.path.join(TFDATA, 'keras_metadata_v6_lambda.pb'), build([dense, lam]))
    # Round trip through the runtime: the bytes are the proto's.
    SavedMetadata().ParseFromString(open(os.path.join(TFDATA, 'keras_metadata_v6_lambda.pb'), 'rb').read())


def main():
    if os.environ.get('PYTHONHASHSEED') != '0':
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED='0'))
    for d in (BENIGN, MALICIOUS, HELDOUT):
        shutil.rmtree(d, ignore_errors=True)
    benign_sklearn()
    benign_pytorch()
    benign_xgboost()
    benign_onnx()
    benign_pyfunc()
    benign_hf()
    heldout_sklearn_pipeline()
    heldout_hf_bin_shards()
    mal_loader_module()
    mal_code_shadow()
    mal_models_from_code()
    mal_gzip_python_model()
    mal_path_escape()
    mal_hf_auto_map()
    mal_hf_missing_shard()
    mal_hf_disguised_shard()
    mal_hf_chat_template()
    keras_metadata_v6()
    MANIFEST.sort(key=lambda e: e['dir'])
    with open(os.path.join(ROOT, 'modeldirs-manifest.json'), 'w') as f:
        json.dump(MANIFEST, f, indent=1)
        f.write('\n')
    print('wrote %d model directories' % len(MANIFEST))


if __name__ == '__main__':
    main()
