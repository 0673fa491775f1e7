#!/usr/bin/python3
"""Regenerates the .npy test files with Debian's numpy (run from this directory).
Nothing here is ever loaded with allow_pickle; the hostile pickle is written as raw bytes."""
import io
import numpy as np

EVIL = b"cos\nsystem\n(S'true'\ntR."  # protocol-0 REDUCE os.system('true'), never unpickled here


def save(name, arr, version=None):
    bio = io.BytesIO()
    if version is None:
        np.save(bio, arr, allow_pickle=True)
    else:
        np.lib.format.write_array(bio, arr, version=version, allow_pickle=True)
    open(name, 'wb').write(bio.getvalue())
    return bio.getvalue()


def header(d, version=(1, 0)):
    bio = io.BytesIO()
    np.lib.format._write_array_header(bio, d, version)
    return bio.getvalue()


save('f32.npy', np.arange(12, dtype=np.float32).reshape(3, 4))
save('i8_fortran.npy', np.asfortranarray(np.arange(6, dtype=np.int8).reshape(2, 3)))
save('scalar_f64.npy', np.float64(1.5))
save('empty.npy', np.zeros((0, 3)))
save('unicode.npy', np.array(['ab', 'cde']))
save('datetime.npy', np.array(['2024-01-02'], dtype='datetime64[ns]'))
save('structured_nested.npy', np.zeros(2, dtype=[('a', '<i4'), ('b', [('x', '<f8'), ('y', '<u2', (3,))]), ('c', 'S5')]))
save('padded_struct.npy', np.zeros(2, dtype=np.dtype({'names': ['a', 'b'], 'formats': ['<i2', '<f8'], 'offsets': [0, 8], 'itemsize': 24})))
save('v2.npy', np.arange(3, dtype='<i4'), version=(2, 0))
save('v3_utf8.npy', np.zeros(1, dtype=[('é', '<i4')]), version=(3, 0))
obj = np.empty(3, dtype=object)
obj[:] = ['text', 7, {'k': [1, 2]}]
save('object_plain.npy', obj)
save('object_in_struct.npy', np.array([(1, 'x')], dtype=[('n', '<i4'), ('o', 'O')]))
# hostile or broken files, built by hand
open('object_evil.npy', 'wb').write(header({'descr': '|O', 'fortran_order': False, 'shape': (1,)}) + EVIL)
open('object_evil_nested.npy', 'wb').write(
    header({'descr': [('a', '<i4'), ('b', [('c', '|O')])], 'fortran_order': False, 'shape': (1,)}) + EVIL)
open('numeric_then_pickle.npy', 'wb').write(open('f32.npy', 'rb').read() + EVIL)
open('truncated_data.npy', 'wb').write(open('f32.npy', 'rb').read()[:-8])
open('bad_header.npy', 'wb').write(b"\x93NUMPY\x01\x00\x20\x00{'descr': __import__('os')}      \n")
open('bad_version.npy', 'wb').write(b"\x93NUMPY\x09\x00" + open('f32.npy', 'rb').read()[8:])
