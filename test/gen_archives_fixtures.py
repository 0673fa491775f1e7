#!/usr/bin/python3
"""Fixtures for the container formats: .npy/.npz, tar (incl. PyTorch's legacy tar format) and 7z.

Run from the repository root with Debian's interpreter (python3-torch, python3-numpy and the
7zip package's `7zz`):

    /usr/bin/python3 test/gen_archives_fixtures.py

Writes test/fixtures/benign/archives/, test/fixtures/malicious/archives/ and
test/fixtures/manifest-archives.json, using the proof harness of test/gen_fixtures.py: every
malicious file is loaded by its real loader in a throw-away subprocess and kept only if the
harmless marker appears; every benign file must load cleanly with its real loader.
"""
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_fixtures as G  # noqa: E402

FAMILY = 'archives'
BENIGN_DIR = os.path.join(G.FIX, 'benign', FAMILY)
MAL_DIR = os.path.join(G.FIX, 'malicious', FAMILY)

G.LOADERS.update({
    '7zz x + pickle.load':
        "import subprocess, pickle, os\nsubprocess.run(['7zz','x','-y','-oext',FILE],check=True,"
        "stdout=subprocess.DEVNULL)\nfor root,_,fs in os.walk('ext'):\n for n in sorted(fs):\n"
        "  p=os.path.join(root,n)\n  if n.endswith('.pkl'):\n   try: pickle.load(open(p,'rb'))\n"
        "   except Exception as e: print(e)",
    'tarfile.extractfile + numpy.load':
        "import tarfile, numpy, io\nt=tarfile.open(FILE)\nfor m in t.getmembers():\n"
        " if m.name.endswith('.npy'): numpy.load(io.BytesIO(t.extractfile(m).read()), allow_pickle=True)",
})

PAYLOAD = G.asm(G.sh_call(), 2)  # protocol 2: REDUCE os.system('touch "$MODELGATE_MARKER"')
SMALL = pickle.dumps({'weights': [0.1, 0.2], 'name': 'tiny'}, protocol=4)


def benign(name, data, fmt, technique, loader):
    G.write_benign(FAMILY + '/' + name, data, fmt, technique, loader)


def malicious(name, data, fmt, technique, catalogue, loader, **kw):
    G.write_malicious(FAMILY + '/' + name, data, fmt, technique, catalogue, loader, cand_dirs=(FAMILY,), **kw)


def npy(arr, version=None):
    import numpy as np
    bio = io.BytesIO()
    np.lib.format.write_array(bio, arr, version=version, allow_pickle=True)
    return bio.getvalue()


def npy_header(d):
    import numpy as np
    bio = io.BytesIO()
    np.lib.format._write_array_header(bio, d, (1, 0))
    return bio.getvalue()


def tar(entries, fmt=tarfile.PAX_FORMAT):
    """entries: (name, data) regular files or (name, None, type, linkname) links."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode='w', format=fmt) as t:
        for e in entries:
            ti = tarfile.TarInfo(e[0])
            ti.mtime, ti.mode, ti.uname, ti.gname = 0, 0o644, 'root', 'root'
            if e[1] is None:
                ti.type, ti.linkname = e[2], e[3]
                t.addfile(ti)
            else:
                ti.size = len(e[1])
                t.addfile(ti, io.BytesIO(e[1]))
    return bio.getvalue()


def sevenzip(entries, *flags):
    with tempfile.TemporaryDirectory(prefix='mg-7z-') as td:
        src = os.path.join(td, 'src')
        for name, data in entries:
            p = os.path.join(src, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, 'wb') as f:
                f.write(data)
            os.utime(p, (315532800, 315532800))
        out = os.path.join(td, 'out.7z')
        subprocess.run(['7zz', 'a', '-bd', '-t7z', '-mtc=off', '-mta=off', '-mtm=off', *flags, out] +
                       [n for n, _ in entries], cwd=src, check=True, stdout=subprocess.DEVNULL)
        with open(out, 'rb') as f:
            return f.read()


def g(module, name):
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def ustr(s):
    b = s.encode()
    return b'X' + struct.pack('<I', len(b)) + b


def torch_tar(storages_head=None, tensor_args=None, main=None, extra=()):
    """PyTorch's pre-0.4 tar layout exactly as torch/serialization.py legacy_load reads it: one
    FloatStorage of 3 elements (its raw bytes spell a pickle GLOBAL, so a scanner that does not
    skip them exactly sees os.system) and one tensor viewing it."""
    raw = b"cos\nsystem\n\x00"
    st = storages_head if storages_head is not None else pickle.dumps(1, protocol=2)
    st += b'\x80\x02K\x01' + ustr('cpu') + g('torch', 'FloatStorage') + b'\x87.'  # (key 1, 'cpu', type)
    st += struct.pack('<q', 3) + raw + pickle.dumps([], protocol=2)
    tn = pickle.dumps(1, protocol=2)
    tn += tensor_args if tensor_args is not None else (
        b'\x80\x02K\x02K\x01' + g('torch', 'FloatTensor') + b'\x87.')  # (key 2, storage 1, type)
    tn += struct.pack('<ii', 1, 0) + struct.pack('<qqq', 3, 1, 0)
    # {'w': <tensor 2>}: BINPERSID with the id '2', which legacy_load resolves as int('2')
    main = main if main is not None else b'\x80\x02}X\x01\x00\x00\x00wX\x01\x00\x00\x002Qs.'
    return tar([('sys_info', pickle.dumps({'protocol_version': 1001, 'little_endian': True,
                                           'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, protocol=2)),
                ('pickle', main), ('tensors', tn), ('storages', st)] + list(extra))


def gen_benign():
    import numpy as np
    rng = np.random.RandomState(0)
    obj = np.empty(2, dtype=object)
    obj[:] = [{'k': [1, 2]}, 'text']
    benign('numpy_many_dtypes.npz', G.npz_bytes(
        f16=rng.rand(3).astype(np.float16), c128=np.array([1 + 2j]), b=np.array([True, False]),
        u=np.array(['ab', 'cde']), s=np.array([b'xy']), dt=np.array(['2024-01-02'], dtype='datetime64[ns]'),
        td=np.array([5], dtype='timedelta64[s]'), scalar=np.float64(2.5), empty=np.zeros((0, 4)),
        fortran=np.asfortranarray(rng.rand(2, 3)), be=np.arange(3, dtype='>i4'),
        nested=np.zeros(2, dtype=[('a', '<i4'), ('b', [('x', '<f8'), ('y', '<u2', (3,))])]),
        padded=np.zeros(2, dtype=np.dtype({'names': ['a', 'b'], 'formats': ['<i2', '<f8'], 'offsets': [0, 8],
                                          'itemsize': 24}))),
        'npz', 'np.savez of many dtypes: f16, c128, bool, unicode, bytes, datetime64, timedelta64, 0-d, empty, '
        'Fortran order, big-endian, nested and padded structured dtypes', 'numpy.load (npz, every member)')
    benign('numpy_header_v2.npy', npy(rng.rand(3, 2), version=(2, 0)), 'npy', '.npy format version 2.0 header',
           'numpy.load')
    benign('numpy_header_v3.npy', npy(np.zeros(2, dtype=[('é', '<i4')]), version=(3, 0)), 'npy',
           '.npy format version 3.0 (UTF-8 field name)', 'numpy.load')
    benign('numpy_object_in_struct.npy', npy(np.array([(1, 'x'), (2, {'k': 1})], dtype=[('n', '<i4'), ('o', 'O')])),
           'npy', 'structured dtype with an object field holding plain data (pickle after the header)', 'numpy.load')
    members = [('model/model.pkl', SMALL), ('model/weights.npy', npy(rng.rand(4))), ('model/config.json', b'{}\n')]
    benign('models_ustar.tar', tar(members, tarfile.USTAR_FORMAT), 'tar', 'ustar tar of a pickle, an .npy and JSON',
           'tarfile.extractfile + pickle.load')
    benign('models_gnu_longname.tar', tar([('model/' + 'long_' * 30 + '.pkl', SMALL)], tarfile.GNU_FORMAT), 'tar',
           'GNU tar with a long member name (././@LongLink)', 'tarfile.extractfile + pickle.load')
    benign('models_with_links.tar', tar(members + [('model/latest.pkl', None, tarfile.SYMTYPE, 'model.pkl'),
                                                   ('model/hard.pkl', None, tarfile.LNKTYPE, 'model/model.pkl')]),
           'tar', 'PAX tar with a symlink and a hard link that stay inside the archive', 'tarfile.extractall')
    benign('models_lzma2_solid.7z', sevenzip(members), '7z', '7z solid LZMA2 archive with a compressed header',
           '7zz x + pickle.load')
    benign('models_ppmd.7z', sevenzip(members, '-m0=PPMd'), '7z', '7z PPMd archive', '7zz x + pickle.load')
    benign('models_bzip2_plainheader.7z', sevenzip(members, '-m0=BZip2', '-mhc=off'), '7z',
           '7z BZip2 archive with an uncompressed header', '7zz x + pickle.load')
    benign('torch_legacy_tar.tar', torch_tar(), 'pytorch-tar',
           "PyTorch's pre-0.4 tar layout (hand-built to torch/serialization.py legacy_load): one FloatStorage whose "
           'raw bytes spell "cos\\nsystem\\n", one tensor, a plain main pickle', 'torch.load')


def gen_malicious():
    import numpy as np
    TL = 'torch.load'
    malicious('torch_tar_storages_count_payload.tar', torch_tar(storages_head=PAYLOAD), 'pytorch-tar',
              'legacy torch tar whose first "storages" pickle (num_storages) is os.system(...): torch unpickles '
              'it before the main pickle; its result 0 makes the load continue normally', '3.2.21', TL)
    malicious('torch_tar_tensor_record_payload.tar', torch_tar(tensor_args=PAYLOAD), 'pytorch-tar',
              'legacy torch tar with the payload as a tensor record in "tensors", after raw storage bytes that a '
              'scanner must skip exactly', '3.2.21', TL)
    malicious('torch_tar_duplicate_pickle.tar', torch_tar(extra=[('pickle', PAYLOAD)]), 'pytorch-tar',
              'legacy torch tar with two "pickle" members: a benign first copy, the payload in the last one, '
              'which tarfile.getmember (and so torch.load) uses', '3.2.21', TL)
    nested = npy_header({'descr': [('a', '<i4'), ('b', [('c', '|O')])], 'fortran_order': False, 'shape': (1,)})
    malicious('numpy_nested_object_field.npy', nested + PAYLOAD, 'npy',
              '.npy whose object dtype hides in a nested structured field: numpy.load(allow_pickle=True) unpickles '
              'the data', '3.3.32', 'numpy.load')
    arr = np.empty(1, dtype=object)
    arr[0] = G.Reduce(os.system, (G.SHELL_CMD,))
    malicious('numpy_object_in_tar.tar.gz', G.gz(tar([('arrays/meta.npy', npy(arr))])), 'tar',
              'gzip tar holding an object .npy with a __reduce__ payload', '3.3.32,3.2.22',
              'tarfile.extractfile + numpy.load')
    malicious('tar_symlink_escape.tar', tar([('model/lnk', None, tarfile.SYMTYPE, '../../..'),
                                             ('model/lnk/' + G.BAKED, b'')]), 'tar',
              'tar slip through a symlink: "model/lnk" -> "../../.." then a file "model/lnk/modelgate-marker"; '
              'no member name contains ".." yet extractall writes outside the target', '3.3.33', 'tarfile.extractall')
    big = pickle.dumps({'weights': list(range(3000))}, protocol=4)
    malicious('pickle_after_benign_solid.7z', sevenzip([('a/weights.pkl', big), ('b/model.pkl', PAYLOAD)],
                                                      '-m0=BZip2'), '7z',
              'solid BZip2 7z: the payload pickle is the second file of the solid block', '3.2.12',
              '7zz x + pickle.load')
    malicious('pickle_ppmd.7z', sevenzip([('model.pkl', PAYLOAD)], '-m0=PPMd'), '7z',
              '7z PPMd-compressed malicious pickle', '3.2.12', '7zz x + pickle.load')


def main():
    for d in (BENIGN_DIR, MAL_DIR):
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
    G.MANIFEST.clear()
    print('benign:')
    gen_benign()
    G.verify_benign()
    print('malicious:')
    gen_malicious()
    G.MANIFEST.sort(key=lambda e: e['file'])
    with open(os.path.join(G.FIX, 'manifest-%s.json' % FAMILY), 'w') as f:
        json.dump(G.MANIFEST, f, indent=1, ensure_ascii=False)
        f.write('\n')
    bad = [e['file'] for e in G.MANIFEST if e['label'] == 'benign' and not e['proven']]
    print('%d fixtures; benign not loading cleanly: %s; skipped: %s' % (len(G.MANIFEST), bad or 'none', G.SKIPPED or 'none'))


if __name__ == '__main__':
    main()
