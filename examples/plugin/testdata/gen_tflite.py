#!/usr/bin/python3
"""Writes the TensorFlow Lite fixtures of the example plugin's tests.

The models are built with the FlatBuffers library (Debian python3-flatbuffers)
following TensorFlow Lite's schema (tensorflow/lite/schema/schema.fbs: table
field order gives the slot numbers used below), and each one is then read back
by a real TensorFlow Lite reader, Arm NN's TfLiteParser (Debian
python3-pyarmnn), to prove it is a model TFLite tooling accepts:

  add.tflite               one ADD operator; Arm NN builds a network from it
  custom_op.tflite         ADD plus a custom operator "AcmeFastNMS"; Arm NN
                           reads it and rejects operator #1 as an unsupported
                           CUSTOM operator
  flex_readfile.tflite     a Select TF op (custom code "FlexReadFile")
  flex_addv2.tflite        a harmless Select TF op ("FlexAddV2")
  detection_postprocess.tflite  the custom op TFLite's own resolver provides
  truncated.tflite         custom_op.tflite cut short

Run from this directory: /usr/bin/python3 gen_tflite.py
"""
import os
import subprocess
import sys
import tempfile

import flatbuffers

BUILTIN_ADD = 0
BUILTIN_CUSTOM = 32
FLOAT32 = 0
ADD_OPTIONS = 11


def model(op_codes):
    """op_codes: list of (builtin_code, custom_code or None). Every code is
    used by one operator, each operator maps tensor 0 (and 1) to tensor 2."""
    b = flatbuffers.Builder(1024)

    def string(s):
        return b.CreateString(s)

    def offsets(offs):
        b.StartVector(4, len(offs), 4)
        for o in reversed(offs):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    def ints(vals):
        b.StartVector(4, len(vals), 4)
        for v in reversed(vals):
            b.PrependInt32(v)
        return b.EndVector()

    # Buffer: data(0) offset(1) size(2); buffer 0 is the empty sentinel.
    b.StartObject(3)
    empty = b.EndObject()
    buffers = offsets([empty])

    tensors = []
    for name in ("a", "b", "out"):
        n, shape = string(name), ints([1, 4])
        # Tensor: shape(0) type(1) buffer(2) name(3)
        b.StartObject(4)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, FLOAT32, -1)
        b.PrependUint32Slot(2, 0, 1)
        b.PrependUOffsetTRelativeSlot(3, n, 0)
        tensors.append(b.EndObject())
    tensor_vec = offsets(tensors)

    ops = []
    for i, (builtin, custom) in enumerate(op_codes):
        ins, outs = ints([0, 1]), ints([2])
        # Operator: opcode_index(0) inputs(1) outputs(2) ... custom_options(5)
        # builtin_options_type(3) builtin_options(4): ADD carries AddOptions
        # (union member 11; fused_activation_function(0) NONE).
        custom_opts = add_opts = None
        if custom is not None:
            b.StartVector(1, 0, 1)
            custom_opts = b.EndVector()
        elif builtin == BUILTIN_ADD:
            b.StartObject(1)
            b.PrependInt8Slot(0, 0, 0)
            add_opts = b.EndObject()
        b.StartObject(7)
        b.PrependUint32Slot(0, i, 0)
        b.PrependUOffsetTRelativeSlot(1, ins, 0)
        b.PrependUOffsetTRelativeSlot(2, outs, 0)
        if add_opts is not None:
            b.PrependUint8Slot(3, ADD_OPTIONS, 0)
            b.PrependUOffsetTRelativeSlot(4, add_opts, 0)
        if custom_opts is not None:
            b.PrependUOffsetTRelativeSlot(5, custom_opts, 0)
        ops.append(b.EndObject())
    op_vec = offsets(ops)

    sg_in, sg_out, sg_name = ints([0, 1]), ints([2]), string("main")
    # SubGraph: tensors(0) inputs(1) outputs(2) operators(3) name(4)
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, tensor_vec, 0)
    b.PrependUOffsetTRelativeSlot(1, sg_in, 0)
    b.PrependUOffsetTRelativeSlot(2, sg_out, 0)
    b.PrependUOffsetTRelativeSlot(3, op_vec, 0)
    b.PrependUOffsetTRelativeSlot(4, sg_name, 0)
    subgraphs = offsets([b.EndObject()])

    codes = []
    for builtin, custom in op_codes:
        cc = string(custom) if custom is not None else None
        # OperatorCode: deprecated_builtin_code(0) custom_code(1) version(2) builtin_code(3)
        b.StartObject(4)
        b.PrependInt8Slot(0, min(builtin, 127), 0)
        if cc is not None:
            b.PrependUOffsetTRelativeSlot(1, cc, 0)
        b.PrependInt32Slot(2, 1, 0)
        b.PrependInt32Slot(3, builtin, -1)
        codes.append(b.EndObject())
    code_vec = offsets(codes)

    desc = string("modelgate example plugin fixture")
    # Model: version(0) operator_codes(1) subgraphs(2) description(3) buffers(4)
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, code_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
    b.PrependUOffsetTRelativeSlot(3, desc, 0)
    b.PrependUOffsetTRelativeSlot(4, buffers, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


ARMNN = """
import sys
import pyarmnn as ann
try:
    ann.ITfLiteParser().CreateNetworkFromBinaryFile(sys.argv[1])
except Exception as e:  # Arm NN raises RuntimeError with its message
    print("ERROR", e)
else:
    print("OK")
"""


def armnn_parse(data):
    """Returns None if Arm NN's TfLiteParser builds a network, else its error.
    It runs in a child process: Arm NN is C++ and a bad model may crash it."""
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(data)
        f.flush()
        r = subprocess.run([sys.executable, "-c", ARMNN, f.name], capture_output=True, text=True)
    out = r.stdout.strip()
    if r.returncode != 0:
        return "Arm NN crashed (exit %d): %s" % (r.returncode, r.stderr.strip()[-300:])
    if out.endswith("OK"):
        return None
    return out[out.find("ERROR"):]


def main():
    fixtures = {
        "add.tflite": [(BUILTIN_ADD, None)],
        "custom_op.tflite": [(BUILTIN_ADD, None), (BUILTIN_CUSTOM, "AcmeFastNMS")],
        "flex_readfile.tflite": [(BUILTIN_CUSTOM, "FlexReadFile")],
        "flex_addv2.tflite": [(BUILTIN_CUSTOM, "FlexAddV2")],
        "detection_postprocess.tflite": [(BUILTIN_CUSTOM, "TFLite_Detection_PostProcess")],
    }
    out = {name: model(codes) for name, codes in fixtures.items()}
    out["truncated.tflite"] = out["custom_op.tflite"][:60]

    err = armnn_parse(out["add.tflite"])
    if err is not None:
        sys.exit("Arm NN rejects add.tflite: " + err)
    for name in ("custom_op.tflite", "flex_readfile.tflite"):
        err = armnn_parse(out[name])
        # Arm NN 20.08 supports no custom operator but the detection
        # post-process; it names the operator CUSTOM.
        if err is None or "CUSTOM" not in err:
            sys.exit("Arm NN should reject %s as a custom operator, got: %r" % (name, err))
        print("Arm NN on %s: %s" % (name, err.strip().splitlines()[0]))
    for name, data in sorted(out.items()):
        with open(name, "wb") as f:
            f.write(data)
        print("wrote %s (%d bytes)" % (name, len(data)))


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    main()
