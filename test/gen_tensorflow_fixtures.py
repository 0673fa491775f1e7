#!/usr/bin/python3
"""Generate modelgate's TensorFlow SavedModel / GraphDef / keras_metadata fixtures.

Run from the repository root (stdlib only):

    /usr/bin/python3 test/gen_tensorflow_fixtures.py

TensorFlow is not installable on these machines (no Debian package, PyPI unreachable), so the
protobuf bytes are written by a small wire-format encoder below, following the field numbers of
TensorFlow's saved_model.proto, meta_graph.proto, graph.proto, node_def.proto, function.proto,
attr_value.proto, tensor.proto, op_def.proto and Keras' saved_metadata.proto. The benign SavedModel
copies the structure tf.saved_model.save writes for a tf.Module with two variables and a serving
signature (saver_filename placeholder, _traced_save/_traced_restore library functions with
StaticRegexFullMatch/ShardedFilename/SaveV2/MergeV2Checkpoints/RestoreV2, the call function and its
signature wrapper). Every fixture is therefore "proven": false: no real loader could be run here.

Writes test/fixtures/benign/tensorflow/, test/fixtures/malicious/tensorflow/ and
test/fixtures/manifest-tensorflow.json.
"""
import base64
import json
import marshal
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
BENIGN = os.path.join(ROOT, 'benign', 'tensorflow')
MALICIOUS = os.path.join(ROOT, 'malicious', 'tensorflow')
MANIFEST = []
WHY = 'TensorFlow is not installable here (no Debian package, PyPI unreachable); bytes hand-encoded'

DT_FLOAT, DT_INT32, DT_STRING, DT_BOOL, DT_RESOURCE = 1, 3, 7, 10, 20


# ---- protobuf wire format ----------------------------------------------------------------------

def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fv(num, v):
    return varint(num << 3) + varint(v)


def fb(num, b):
    if isinstance(b, str):
        b = b.encode()
    return varint(num << 3 | 2) + varint(len(b)) + b


def msg(*parts):
    return b''.join(parts)


# ---- TensorFlow messages ------------------------------------------------------------------------

def shape(*dims):
    return msg(*[fb(2, fv(1, d & ((1 << 64) - 1))) for d in dims])


def tensor_strings(*ss):
    return msg(fv(1, DT_STRING), fb(2, shape(len(ss)) if len(ss) != 1 else b''), *[fb(8, s) for s in ss])


def tensor_int(v):
    return msg(fv(1, DT_INT32), fb(2, b''), fv(7, v))


def av_s(s):
    return fb(2, s)


def av_type(t):
    return fv(6, t)


def av_shape(*dims):
    return fb(7, shape(*dims))


def av_tensor(t):
    return fb(8, t)


def av_func(name):
    return fb(10, fb(1, name))


def av_list_s(*ss):
    return fb(1, msg(*[fb(2, s) for s in ss]))


def av_list_type(*ts):
    return fb(1, msg(*[fv(6, t) for t in ts]))


def av_b(v):
    return fv(5, 1 if v else 0)


def node(name, op, inputs=(), **attrs):
    parts = [fb(1, name), fb(2, op)] + [fb(3, i) for i in inputs]
    for k in sorted(attrs):
        parts.append(fb(5, msg(fb(1, k), fb(2, attrs[k]))))
    return msg(*parts)


def const_str(name, *ss):
    return node(name, 'Const', dtype=av_type(DT_STRING), value=av_tensor(tensor_strings(*ss)))


def opdef(name, inputs=(), outputs=(), stateful=False):
    parts = [fb(1, name)]
    parts += [fb(2, msg(fb(1, n), fv(3, t))) for n, t in inputs]
    parts += [fb(3, msg(fb(1, n), fv(3, t))) for n, t in outputs]
    if stateful:
        parts.append(fv(17, 1))
    return msg(*parts)


def function(name, nodes, inputs=(), outputs=(), ret=None):
    parts = [fb(1, opdef(name, inputs, outputs))] + [fb(3, n) for n in nodes]
    for k, v in (ret or {}).items():
        parts.append(fb(4, msg(fb(1, k), fb(2, v))))
    return msg(*parts)


def graph_def(nodes, functions=()):
    return msg(*[fb(1, n) for n in nodes], fb(2, msg(*[fb(1, f) for f in functions])),
               fb(4, msg(fv(1, 1286), fv(2, 12))))


def meta_info(ops):
    return msg(fb(1, 'v2.13.0'), fb(2, msg(*[fb(1, opdef(o)) for o in sorted(set(ops))])), fb(4, 'serve'),
               fb(5, '2.13.0'), fb(6, 'v2.13.0-rc2-7-g1cb1a030a62'), fv(7, 1))


def saver_def():
    return msg(fb(1, 'saver_filename:0'), fb(2, 'StatefulPartitionedCall_1:0'), fb(3, 'StatefulPartitionedCall_2'),
               fv(4, 5), fv(5, 1), fv(7, 2))


def signature_def():
    tinfo = lambda n: msg(fb(1, n), fv(2, DT_FLOAT), fb(3, shape(-1, 4)))
    sig = msg(fb(1, msg(fb(1, 'x'), fb(2, tinfo('serving_default_x:0')))),
              fb(2, msg(fb(1, 'output_0'), fb(2, tinfo('StatefulPartitionedCall:0')))),
              fb(3, 'tensorflow/serving/predict'))
    return fb(5, msg(fb(1, 'serving_default'), fb(2, sig)))


def saved_model(graph, ops, assets=(), objects=b''):
    mg = msg(fb(1, meta_info(ops)), fb(2, graph), fb(3, saver_def()), signature_def(),
             *[fb(6, msg(fb(1, msg(fb(1, 'Const_asset:0'), fv(2, DT_STRING))), fb(2, a))) for a in assets],
             fb(7, objects))
    return msg(fv(1, 1), fb(2, mg))


def object_graph(user_objects):
    """SavedObjectGraph: the root module plus one SavedUserObject per (identifier, metadata JSON)."""
    nodes = [fb(1, msg(fb(4, msg(fb(1, '_generic_user_object'), fb(2, msg(fv(1, 1), fv(2, 1)))))))]
    for ident, meta in user_objects:
        nodes.append(fb(1, fb(4, msg(fb(1, ident), fb(2, msg(fv(1, 2), fv(2, 1))), fb(3, json.dumps(meta))))))
    nodes.append(fb(1, fb(7, msg(fv(1, DT_FLOAT), fb(2, shape(4, 2)), fv(3, 1), fb(6, 'w')))))
    return msg(*nodes)


# ---- the structure tf.saved_model.save writes ---------------------------------------------------

def traced_save(prefix_input='file_prefix', extra_nodes=()):
    names = ['w/.ATTRIBUTES/VARIABLE_VALUE', 'b/.ATTRIBUTES/VARIABLE_VALUE', '_CHECKPOINTABLE_OBJECT_GRAPH']
    nodes = [
        node('StaticRegexFullMatch', 'StaticRegexFullMatch', [prefix_input], pattern=av_s('^s3://.*')),
        const_str('Const', '.part'),
        const_str('Const_1', '_temp/part'),
        node('Select', 'Select', ['StaticRegexFullMatch:output:0', 'Const:output:0', 'Const_1:output:0'],
             T=av_type(DT_STRING)),
        node('StringJoin', 'StringJoin', [prefix_input, 'Select:output:0'], N=fv(3, 2)),
        node('num_shards', 'Const', dtype=av_type(DT_INT32), value=av_tensor(tensor_int(1))),
        node('ShardedFilename/shard', 'Const', dtype=av_type(DT_INT32), value=av_tensor(tensor_int(0))),
        node('ShardedFilename', 'ShardedFilename', ['StringJoin:output:0', 'ShardedFilename/shard:output:0',
                                                    'num_shards:output:0']),
        const_str('SaveV2/tensor_names', *names),
        const_str('SaveV2/shape_and_slices', '', '', ''),
        node('SaveV2', 'SaveV2', ['ShardedFilename:filename:0', 'SaveV2/tensor_names:output:0',
                                  'SaveV2/shape_and_slices:output:0', 'savev2_w_read_readvariableop',
                                  'savev2_b_read_readvariableop', 'savev2_const'],
             dtypes=av_list_type(DT_FLOAT, DT_FLOAT, DT_STRING)),
        node('MergeV2Checkpoints/checkpoint_prefixes', 'Pack', ['ShardedFilename:filename:0', '^SaveV2'],
             N=fv(3, 1), T=av_type(DT_STRING)),
        node('MergeV2Checkpoints', 'MergeV2Checkpoints', ['MergeV2Checkpoints/checkpoint_prefixes:output:0',
                                                          prefix_input]),
        node('Identity', 'Identity', [prefix_input, '^MergeV2Checkpoints'], T=av_type(DT_STRING)),
        node('NoOp', 'NoOp', ['^MergeV2Checkpoints']),
    ] + list(extra_nodes)
    return function('__inference__traced_save_61', nodes,
                    [('file_prefix', DT_STRING), ('savev2_w_read_readvariableop', DT_FLOAT),
                     ('savev2_b_read_readvariableop', DT_FLOAT), ('savev2_const', DT_STRING)],
                    [('identity_1', DT_STRING)], {'identity_1': 'Identity:output:0'})


def traced_restore():
    nodes = [
        const_str('RestoreV2/tensor_names', 'w/.ATTRIBUTES/VARIABLE_VALUE', 'b/.ATTRIBUTES/VARIABLE_VALUE',
                  '_CHECKPOINTABLE_OBJECT_GRAPH'),
        const_str('RestoreV2/shape_and_slices', '', '', ''),
        node('RestoreV2', 'RestoreV2', ['file_prefix', 'RestoreV2/tensor_names:output:0',
                                        'RestoreV2/shape_and_slices:output:0'],
             dtypes=av_list_type(DT_FLOAT, DT_FLOAT, DT_STRING)),
        node('Identity', 'Identity', ['RestoreV2:tensors:0'], T=av_type(DT_FLOAT)),
        node('AssignVariableOp', 'AssignVariableOp', ['assignvariableop_resource', 'Identity:output:0'],
             dtype=av_type(DT_FLOAT)),
        node('Identity_1', 'Identity', ['RestoreV2:tensors:1'], T=av_type(DT_FLOAT)),
        node('AssignVariableOp_1', 'AssignVariableOp', ['assignvariableop_1_resource', 'Identity_1:output:0'],
             dtype=av_type(DT_FLOAT)),
        node('NoOp', 'NoOp', ['^AssignVariableOp', '^AssignVariableOp_1']),
        node('Identity_2', 'Identity', ['file_prefix', '^NoOp'], T=av_type(DT_STRING)),
    ]
    return function('__inference__traced_restore_80', nodes,
                    [('file_prefix', DT_STRING), ('assignvariableop_resource', DT_RESOURCE),
                     ('assignvariableop_1_resource', DT_RESOURCE)], [('identity_3', DT_STRING)],
                    {'identity_3': 'Identity_2:output:0'})


def call_fn(body):
    return function('__inference___call___30', body,
                    [('x', DT_FLOAT), ('matmul_readvariableop_resource', DT_RESOURCE),
                     ('add_readvariableop_resource', DT_RESOURCE)], [('identity', DT_FLOAT)],
                    {'identity': 'Identity:output:0'})


DENSE_BODY = [
    node('MatMul/ReadVariableOp', 'ReadVariableOp', ['matmul_readvariableop_resource'], dtype=av_type(DT_FLOAT)),
    node('MatMul', 'MatMul', ['x', 'MatMul/ReadVariableOp:value:0'], T=av_type(DT_FLOAT)),
    node('add/ReadVariableOp', 'ReadVariableOp', ['add_readvariableop_resource'], dtype=av_type(DT_FLOAT)),
    node('add', 'AddV2', ['MatMul:product:0', 'add/ReadVariableOp:value:0'], T=av_type(DT_FLOAT)),
    node('Relu', 'Relu', ['add:z:0'], T=av_type(DT_FLOAT)),
    node('Identity', 'Identity', ['Relu:activations:0', '^NoOp'], T=av_type(DT_FLOAT)),
    node('NoOp', 'NoOp', ['^MatMul/ReadVariableOp', '^add/ReadVariableOp']),
]


def signature_wrapper():
    nodes = [node('StatefulPartitionedCall', 'StatefulPartitionedCall', ['x', 'unknown', 'unknown_0'],
                  f=av_func('__inference___call___30'), Tin=av_list_type(DT_FLOAT, DT_RESOURCE, DT_RESOURCE),
                  Tout=av_list_type(DT_FLOAT), config_proto=av_s(b'\n\x07\n\x03CPU\x10\x01\n\x07\n\x03GPU\x10\x002\x02J\x008\x01'),
                  executor_type=av_s('')),
             node('Identity', 'Identity', ['StatefulPartitionedCall:output:0'], T=av_type(DT_FLOAT))]
    return function('__inference_signature_wrapper_40', nodes,
                    [('x', DT_FLOAT), ('unknown', DT_RESOURCE), ('unknown_0', DT_RESOURCE)], [('identity', DT_FLOAT)],
                    {'identity': 'Identity:output:0'})


def main_graph():
    return [
        node('w', 'VarHandleOp', shared_name=av_s('w'), dtype=av_type(DT_FLOAT), shape=av_shape(4, 2),
             allowed_devices=av_list_s(), container=av_s('')),
        node('b', 'VarHandleOp', shared_name=av_s('b'), dtype=av_type(DT_FLOAT), shape=av_shape(2),
             allowed_devices=av_list_s(), container=av_s('')),
        node('NoOp', 'NoOp'),
        const_str('Const', '\n\x0e\n\x05\x08\x01\x12\x01w\n\x05\x08\x02\x12\x01b'),
        node('serving_default_x', 'Placeholder', dtype=av_type(DT_FLOAT), shape=av_shape(-1, 4)),
        node('StatefulPartitionedCall', 'StatefulPartitionedCall', ['serving_default_x', 'w', 'b'],
             f=av_func('__inference_signature_wrapper_40'), Tin=av_list_type(DT_FLOAT, DT_RESOURCE, DT_RESOURCE),
             Tout=av_list_type(DT_FLOAT)),
        node('saver_filename', 'Placeholder', dtype=av_type(DT_STRING), shape=av_shape()),
        node('StatefulPartitionedCall_1', 'StatefulPartitionedCall', ['saver_filename', 'w/Read/ReadVariableOp',
                                                                       'b/Read/ReadVariableOp', 'Const'],
             f=av_func('__inference__traced_save_61')),
        node('StatefulPartitionedCall_2', 'StatefulPartitionedCall', ['saver_filename', 'w', 'b'],
             f=av_func('__inference__traced_restore_80')),
        node('w/Read/ReadVariableOp', 'ReadVariableOp', ['w'], dtype=av_type(DT_FLOAT)),
        node('b/Read/ReadVariableOp', 'ReadVariableOp', ['b'], dtype=av_type(DT_FLOAT)),
    ]


STD_OPS = ['AddV2', 'AssignVariableOp', 'Const', 'Identity', 'MatMul', 'MergeV2Checkpoints', 'NoOp', 'Pack',
           'Placeholder', 'ReadVariableOp', 'Relu', 'RestoreV2', 'SaveV2', 'Select', 'ShardedFilename',
           'StatefulPartitionedCall', 'StaticRegexFullMatch', 'StringJoin', 'VarHandleOp']


def module_saved_model(call_body=DENSE_BODY, save=None, extra_main=(), extra_ops=(), assets=(), objects=None):
    g = graph_def(main_graph() + list(extra_main),
                  [call_fn(call_body), signature_wrapper(), save or traced_save(), traced_restore()])
    if objects is None:
        objects = object_graph([('_tf_keras_layer', dense_meta('dense', 2))])
    return saved_model(g, STD_OPS + list(extra_ops), assets, objects)


# ---- keras_metadata.pb --------------------------------------------------------------------------

def keras_node(node_id, path, identifier, meta):
    return fb(1, msg(fb(1, msg(fv(1, 2), fv(2, 1))), fv(2, node_id), fb(3, path), fb(4, identifier),
                     fb(5, json.dumps(meta, separators=(', ', ': ')))))


def dense_meta(name, units):
    return {'name': name, 'trainable': True, 'expects_training_arg': False, 'dtype': 'float32',
            'batch_input_shape': None, 'stateful': False, 'must_restore_from_config': False,
            'class_name': 'Dense', 'config': {'name': name, 'trainable': True, 'dtype': 'float32',
                                              'units': units, 'activation': 'relu', 'use_bias': True,
                                              'kernel_initializer': {'class_name': 'GlorotUniform',
                                                                     'config': {'seed': None}},
                                              'bias_initializer': {'class_name': 'Zeros', 'config': {}}},
            'input_spec': {'class_name': 'InputSpec', 'config': {'dtype': None, 'shape': None, 'ndim': None,
                                                                 'max_ndim': None, 'min_ndim': 2,
                                                                 'axes': {'-1': 4}}},
            'build_input_shape': {'class_name': 'TensorShape', 'items': [None, 4]}}


def keras_metadata(layers):
    model = {'name': 'sequential', 'trainable': True, 'expects_training_arg': True, 'dtype': 'float32',
             'batch_input_shape': None, 'must_restore_from_config': False, 'class_name': 'Sequential',
             'config': {'name': 'sequential', 'layers': [
                 {'class_name': 'InputLayer', 'config': {'batch_input_shape': [None, 4], 'dtype': 'float32',
                                                         'sparse': False, 'ragged': False, 'name': 'input_1'}}]
                 + [{'class_name': l['class_name'], 'config': l['config']} for l in layers]},
             'shared_object_id': 0, 'is_graph_network': True, 'keras_version': '2.13.1', 'backend': 'tensorflow'}
    out = keras_node(0, 'root', '_tf_keras_sequential', model)
    for i, l in enumerate(layers):
        out += keras_node(i + 1, 'root.layer_with_weights-%d' % i if l['class_name'] == 'Dense'
                          else 'root.layer-%d' % i, '_tf_keras_layer', l)
    return out


TEXT_MODEL = """saved_model_schema_version: 1
meta_graphs {
  meta_info_def {
    tags: "serve"
    tensorflow_version: "2.13.0"
  }
  graph_def {
    node {
      name: "x"
      op: "Placeholder"
      attr {
        key: "dtype"
        value { type: DT_FLOAT }
      }
    }
    node {
      name: "call"
      op: "StatefulPartitionedCall"
      input: "x"
      attr {
        key: "f"
        value { func { name: "__inference_call_12" } }
      }
    }
    node {
      name: "direct"
      op: "__inference_call_12"
      input: "x"
    }
%(extra)s    library {
      function {
        signature { name: "__inference_call_12" }
        node_def { name: "MatMul" op: "MatMul" input: "x" input: "x" }
        node_def { name: "Relu" op: "Relu" input: "MatMul:product:0" }
      }
    }
  }
}
"""

TEXT_PYFUNC = """    node {
      name: "py"
      op: "PyFunc"
      input: "x"
      attr {
        key: "token"
        value { s: "pyfunc_1" }
      }
    }
"""


_CODE = compile("open(__import__('os').environ.get('MODELGATE_MARKER','/tmp/modelgate-marker'),'a').close()",
               '<lambda>', 'exec')
LAMBDA = {'name': 'lambda', 'trainable': True, 'expects_training_arg': False, 'dtype': 'float32',
       'batch_input_shape': None, 'stateful': False, 'must_restore_from_config': False, 'class_name': 'Lambda',
       'config': {'name': 'lambda', 'trainable': True, 'dtype': 'float32',
                  'function': {'class_name': '__tuple__',
                               'items': [base64.b64encode(marshal.dumps(_CODE)).decode(), None, None]},
                  'function_type': 'lambda', 'module': '__main__', 'output_shape': None,
                  'output_shape_type': 'raw', 'output_shape_module': None, 'arguments': {}}}


# ---- writing ------------------------------------------------------------------------------------

def write(label, rel, data, fmt, technique, catalogue=''):
    base = BENIGN if label == 'benign' else MALICIOUS
    path = os.path.join(base, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    MANIFEST.append({'file': '%s/tensorflow/%s' % (label, rel), 'label': label, 'format': fmt,
                     'technique': technique, 'catalogue': catalogue,
                     'loader': 'tf.keras.models.load_model' if fmt == 'keras-metadata' else 'tf.saved_model.load',
                     'proven': False, 'notes': WHY})


def main():
    # ---- benign
    write('benign', 'dense_module/saved_model.pb', module_saved_model(), 'tf-savedmodel',
          'tf.Module SavedModel layout: variables, serving signature, _traced_save (StaticRegexFullMatch "^s3://.*", '
          'SaveV2, MergeV2Checkpoints) and _traced_restore (RestoreV2) library functions')
    write('benign', 'dense_module/keras_metadata.pb',
          keras_metadata([dense_meta('dense', 8), dense_meta('dense_1', 2)]), 'keras-metadata',
          'keras_metadata.pb of a Sequential model with two Dense layers')
    vocab_table = [
        const_str('asset_path', 'vocab.txt'),
        node('hash_table', 'HashTableV2', key_dtype=av_type(DT_STRING), value_dtype=av_type(3),
             shared_name=av_s('hash_table_vocab.txt_-2_-1'), container=av_s(''), use_node_name_sharing=av_b(False)),
        node('init_table', 'InitializeTableFromTextFileV2', ['hash_table', 'asset_path'], key_index=fv(3, -2),
             value_index=fv(3, -1), vocab_size=fv(3, -1), delimiter=av_s('\t')),
    ]
    write('benign', 'vocab_table/saved_model.pb', module_saved_model(extra_main=vocab_table, assets=['vocab.txt'],
                                                                     extra_ops=['HashTableV2',
                                                                                'InitializeTableFromTextFileV2']),
          'tf-savedmodel', 'SavedModel with a lookup table initialised from the relative asset "vocab.txt"')
    frozen = graph_def([
        node('input', 'Placeholder', dtype=av_type(DT_FLOAT), shape=av_shape(-1, 4)),
        node('w', 'Const', dtype=av_type(DT_FLOAT), value=av_tensor(msg(fv(1, DT_FLOAT), fb(2, shape(4, 1)),
                                                                        fb(4, bytes(16))))),
        node('MatMul', 'MatMul', ['input', 'w'], T=av_type(DT_FLOAT)),
        node('output', 'Identity', ['MatMul'], T=av_type(DT_FLOAT)),
    ])
    write('benign', 'frozen_graph.pb', frozen, 'tf-graphdef', 'frozen GraphDef (Placeholder, Const, MatMul)')

    write('benign', 'dense_module/fingerprint.pb',
          msg(fv(1, 11933140163343357530), fv(2, 1394467926263519532), fv(3, 8146914467045848281),
              fv(4, 17230931744547227133), fv(5, 1823560829787151262), fb(6, fv(1, 1))), 'tf-fingerprint',
          'fingerprint.pb (FingerprintDef hashes) that TensorFlow 2.12+ writes next to saved_model.pb')
    write('benign', 'text_module/saved_model.pbtxt', (TEXT_MODEL % {'extra': ''}).encode(), 'tf-savedmodel-text',
          'text-format SavedModel (saved_model.pbtxt) of a MatMul/Relu graph calling a library function')

    # ---- malicious
    write('malicious', 'text_pyfunc/saved_model.pbtxt', (TEXT_MODEL % {'extra': TEXT_PYFUNC}).encode(), 'tf-savedmodel-text',
          'text-format SavedModel whose graph calls PyFunc', '3.3.29')
    leak = [
        const_str('secret_path', '/etc/passwd'),
        node('ReadFile', 'ReadFile', ['secret_path:output:0']),
        const_str('drop_path', '/tmp/modelgate-marker'),
        node('WriteFile', 'WriteFile', ['drop_path:output:0', 'ReadFile:contents:0']),
    ]
    write('malicious', 'readfile_writefile/saved_model.pb',
          module_saved_model(call_body=DENSE_BODY + leak, extra_ops=['ReadFile', 'WriteFile']), 'tf-savedmodel',
          'serving function reads /etc/passwd (ReadFile) and writes it to /tmp (WriteFile)', '3.3.29')
    pyfunc = [node('EagerPyFunc', 'EagerPyFunc', ['Relu:activations:0'], token=av_s('pyfunc_0'),
                   Tin=av_list_type(DT_FLOAT), Tout=av_list_type(DT_FLOAT), is_async=av_b(False))]
    write('malicious', 'eager_pyfunc/saved_model.pb',
          module_saved_model(call_body=DENSE_BODY + pyfunc, extra_ops=['EagerPyFunc']), 'tf-savedmodel',
          'serving function calls EagerPyFunc (tf.py_function) with token pyfunc_0', '3.3.29')
    evil_save = traced_save(prefix_input='evil_prefix:output:0',
                            extra_nodes=[const_str('evil_prefix', '/home/user/.ssh/authorized_keys_ckpt')])
    write('malicious', 'save_absolute_prefix/saved_model.pb', module_saved_model(save=evil_save), 'tf-savedmodel',
          '_traced_save writes its checkpoint (SaveV2, MergeV2Checkpoints) to the constant absolute prefix '
          '/home/user/.ssh/authorized_keys_ckpt instead of the saver_filename argument', '3.3.29')
    dbg = [node('DebugIdentity', 'DebugIdentity', ['MatMul:product:0'], T=av_type(DT_FLOAT),
                debug_urls=av_list_s('file:///tmp/tfdbg_dump'), device_name=av_s(''), tensor_name=av_s('MatMul:0'),
                gated_grpc=av_b(False))]
    write('malicious', 'debug_identity_url/saved_model.pb',
          module_saved_model(call_body=DENSE_BODY + dbg, extra_ops=['DebugIdentity']), 'tf-savedmodel',
          'DebugIdentity in the serving function dumps activations to file:///tmp/tfdbg_dump', '3.3.29')
    write('malicious', 'asset_traversal/saved_model.pb', module_saved_model(assets=['../../../../etc/passwd']),
          'tf-savedmodel', 'asset_file_def filename "../../../../etc/passwd": the loader joins it to the assets '
          'directory and hands the resulting path to the graph', '3.3.29')
    write('malicious', 'object_graph_lambda/saved_model.pb',
          module_saved_model(objects=object_graph([('_tf_keras_layer', dense_meta('dense', 2)),
                                                   ('_tf_keras_layer', LAMBDA)])), 'tf-savedmodel',
          'TF 2.0-2.4 layout: Keras Lambda layer metadata (marshalled bytecode) in SavedUserObject.metadata of '
          'the object graph', '3.3.28')
    write('malicious', 'keras_lambda/keras_metadata.pb', keras_metadata([dense_meta('dense', 8), LAMBDA]),
          'keras-metadata', 'keras_metadata.pb with a Lambda layer carrying marshalled bytecode (func_dump)',
          '3.3.28')
    write('malicious', 'frozen_readfile.pb', graph_def([
        const_str('path', '../../../../etc/shadow'),
        node('ReadFile', 'ReadFile', ['path']),
        node('output', 'Identity', ['ReadFile'], T=av_type(DT_STRING)),
    ]), 'tf-graphdef', 'frozen GraphDef reading ../../../../etc/shadow with ReadFile', '3.3.29')

    MANIFEST.sort(key=lambda e: e['file'])
    with open(os.path.join(ROOT, 'manifest-tensorflow.json'), 'w') as f:
        json.dump(MANIFEST, f, indent=1)
        f.write('\n')
    print('wrote %d TensorFlow fixtures' % len(MANIFEST))


if __name__ == '__main__':
    main()
