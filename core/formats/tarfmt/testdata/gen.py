#!/usr/bin/python3
"""Regenerates the tar test files (run from this directory). Pickles are written as raw bytes
and never loaded; the "evil" one is the protocol-0 REDUCE os.system('true')."""
import io
import pickle
import struct
import subprocess
import tarfile
import tempfile
import os

EVIL = b"cos\nsystem\n(S'true'\ntR."
BENIGN = pickle.dumps({'weights': [0.1, 0.2], 'name': 'tiny'}, protocol=2)


def tar(entries, fmt=tarfile.PAX_FORMAT):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode='w', format=fmt) as t:
        for e in entries:
            name, data = e[0], e[1]
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.mode, ti.uname, ti.gname = 0, 0o644, 'root', 'root'
            if len(e) > 2 and e[2] == b'Z':  # unknown type: tarfile still extracts its data
                ti.type, ti.size = e[2], len(data)
                t.addfile(ti, io.BytesIO(data))
            elif len(e) > 2:
                ti.type, ti.linkname = e[2], e[3]
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def write(name, data):
    with open(name, 'wb') as f:
        f.write(data)


def g(module, name):  # GLOBAL opcode
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def s(x):  # BINUNICODE
    b = x.encode()
    return b'X' + struct.pack('<I', len(b)) + b


def storage_args(key, stype):
    return b'\x80\x02' + s(key) + s('cpu') + g('torch', stype) + b'\x87.'


def torch_tar(storages_args=None, views=None, tensor_args=None, main=BENIGN, extra=()):
    raw = b"cos\nsystem\n"  # 3 float32 elements whose bytes look like a pickle GLOBAL
    st = pickle.dumps(1, protocol=2) + (storages_args or storage_args('1', 'FloatStorage'))
    st += struct.pack('<q', 3) + raw + b'\x00' + (views or pickle.dumps([], protocol=2))
    tn = pickle.dumps(1, protocol=2) + (tensor_args or (b'\x80\x02' + s('t1') + s('1') + g('torch', 'FloatTensor') + b'\x87.'))
    tn += struct.pack('<ii', 1, 0) + struct.pack('<qqq', 3, 1, 0)
    return tar([('sys_info', pickle.dumps({'protocol_version': 1001, 'little_endian': True}, protocol=2)),
                ('pickle', main), ('tensors', tn), ('storages', st)] + list(extra))


write('ustar.tar', tar([('model/model.pkl', BENIGN), ('README', b'hello\n')], tarfile.USTAR_FORMAT))
write('gnu_longname.tar', tar([('d/' + 'x' * 150 + '.pkl', EVIL)], tarfile.GNU_FORMAT))
write('pax.tar', tar([('model/model.pkl', EVIL)]))
v7 = tar([('model.pkl', BENIGN)], tarfile.USTAR_FORMAT)
v7 = bytearray(v7)
v7[257:265] = b'\x00' * 8  # no magic/version: an old v7 header
v7[148:156] = b'        '
v7[148:156] = (b'%06o\x00 ' % sum(v7[:512]))
write('v7.tar', bytes(v7))
write('abs_name.tar', tar([('/etc/cron.d/evil', b'* * * * * root true\n')]))
write('symlink_escape.tar', tar([('model/link', b'', tarfile.SYMTYPE, '../../../etc/passwd')]))
write('symlink_inside.tar', tar([('model/link', b'', tarfile.SYMTYPE, '../model.pkl'), ('model.pkl', BENIGN)]))
write('hardlink_escape.tar', tar([('model/link', b'', tarfile.LNKTYPE, '../outside')]))
write('unknown_type.tar', tar([('model.pkl', EVIL, b'Z', '')]))
write('dup_members.tar', tar([('model.pkl', BENIGN), ('model.pkl', EVIL)]))
write('torch_benign.tar', torch_tar())
write('torch_storage_args_evil.tar', torch_tar(storages_args=EVIL))
write('torch_views_evil.tar', torch_tar(views=EVIL))
write('torch_tensor_args_evil.tar', torch_tar(tensor_args=EVIL))
write('torch_dup_pickle.tar', torch_tar(extra=[('pickle', EVIL)]))
write('torch_unknown_storage.tar', torch_tar(storages_args=storage_args('1', 'WeirdStorage')))
write('torch_truncated_storage.tar', torch_tar(storages_args=storage_args('1', 'DoubleStorage')))
with tempfile.TemporaryDirectory() as td:
    p = os.path.join(td, 'model.pkl')
    with open(p, 'wb') as f:
        f.write(EVIL)
        f.seek(1 << 20)
        f.write(b'\n')
    subprocess.run(['tar', '--sparse', '--format=gnu', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', os.path.abspath('sparse_gnu.tar'), '-C', td,
                    'model.pkl'], check=True)
