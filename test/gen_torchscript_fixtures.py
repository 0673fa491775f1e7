#!/usr/bin/python3
"""Generate modelgate's TorchScript fixtures with Debian's python3-torch.

Run from the repository root:

    /usr/bin/python3 test/gen_torchscript_fixtures.py

Writes test/fixtures/benign/torchscript/, test/fixtures/malicious/torchscript/ and
test/fixtures/manifest-torchscript.json. Every archive is written by torch.jit.save; the one
hand-edited archive says so in its technique.

TorchScript methods are compiled from source files, so the modules live in a module written to a
temporary directory and imported from there. Proofs run torch.jit.load (and, where the payload sits
in forward, one call) in a throw-away subprocess whose cwd is a fresh temp dir; the payload's file
is the relative name "modelgate-marker" there (TorchScript cannot read environment variables).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
BENIGN = os.path.join(ROOT, 'benign', 'torchscript')
MALICIOUS = os.path.join(ROOT, 'malicious', 'torchscript')
MANIFEST = []
BAKED = 'modelgate-marker'

MODULES = r'''
import torch
from typing import Dict, List, Tuple
from torch import Tensor


class Gate(torch.nn.Module):
    """Control flow, loops, containers and submodules: what real scripted models contain."""

    def __init__(self):
        super().__init__()
        self.enc = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU())
        self.heads = torch.nn.ModuleList([torch.nn.Linear(8, 2) for _ in range(3)])
        self.register_buffer('scale', torch.ones(2))
        self.names: List[str] = ['a', 'b', 'c']

    def forward(self, x: Tensor, steps: int = 2) -> Dict[str, Tensor]:
        h = self.enc(x)
        for _ in range(steps):
            h = torch.tanh(h) + h
        out: Dict[str, Tensor] = {}
        i = 0
        for head in self.heads:
            y = head(h) * self.scale
            if bool(y.sum() > 0):
                y = torch.relu(y)
            else:
                y = -y
            out[self.names[i]] = y
            i += 1
        if x.dim() != 2:
            raise RuntimeError('expected a batch of vectors')
        return out


class WithState(torch.nn.Module):
    """Custom __getstate__/__setstate__ that only restore attributes (benign)."""

    def __init__(self):
        super().__init__()
        self.register_buffer('w', torch.arange(4.0))
        self.note = 'v1'

    def forward(self, x: Tensor) -> Tensor:
        return x * self.w

    @torch.jit.export
    def __getstate__(self) -> Tuple[Tensor, str, bool]:
        return (self.w, self.note, self.training)

    @torch.jit.export
    def __setstate__(self, state: Tuple[Tensor, str, bool]) -> None:
        self.w = state[0]
        self.note = state[1]
        self.training = state[2]


class Recurrent(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(4, 8, batch_first=True)
        self.fc = torch.nn.Linear(8, 2)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


class SaveOnLoad(torch.nn.Module):
    """__setstate__ writes a file with torch.save: runs inside torch.jit.load."""

    def __init__(self):
        super().__init__()
        self.register_buffer('w', torch.zeros(2))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.w

    @torch.jit.export
    def __getstate__(self) -> Tuple[Tensor, bool]:
        return (self.w, self.training)

    @torch.jit.export
    def __setstate__(self, state: Tuple[Tensor, bool]) -> None:
        self.w = state[0]
        self.training = state[1]
        torch.save(state[0], 'modelgate-marker')


class ReadsFile(torch.nn.Module):
    """forward maps /etc/os-release into a tensor with torch.from_file."""

    def forward(self, x: Tensor) -> Tensor:
        leak = torch.from_file('/etc/os-release', False, 64, dtype=torch.uint8)
        return x + leak[:1].float()
'''


def run(path, code):
    with tempfile.TemporaryDirectory(prefix='mg-proof-') as td:
        marker = os.path.join(td, 'marker')
        env = dict(os.environ, MODELGATE_MARKER=marker)
        env.pop('PYTHONPATH', None)
        r = subprocess.run([sys.executable, '-c', 'FILE = %r\n' % os.path.abspath(path) + code], cwd=td, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        hit = os.path.exists(marker) or os.path.exists(os.path.join(td, BAKED))
        return hit, r.returncode, r.stderr.strip().splitlines()[-1:]


def add(rel, label, technique, loader, proven, catalogue='', notes=None):
    e = {'file': rel, 'label': label, 'format': 'torchscript-zip', 'technique': technique,
         'catalogue': catalogue, 'loader': loader, 'proven': proven}
    if notes:
        e['notes'] = notes
    MANIFEST.append(e)


LOAD = "import torch\nm = torch.jit.load(FILE)\n"


def benign(name, scripted, technique, call):
    path = os.path.join(BENIGN, name)
    import torch
    torch.jit.save(scripted, path)
    hit, rc, err = run(path, LOAD + call)
    if rc != 0 or hit:
        raise SystemExit('benign %s: rc=%s marker=%s %s' % (name, rc, hit, err))
    add('benign/torchscript/' + name, 'benign', technique, 'torch.jit.load + call', True)


def malicious(name, technique, proof, proven_required=True, notes=None):
    path = os.path.join(MALICIOUS, name)
    proven = False
    if proof is not None:
        hit, rc, err = run(path, proof)
        if not hit and proven_required:
            raise SystemExit('malicious %s not proven: rc=%s %s' % (name, rc, err))
        proven = hit
    add('malicious/torchscript/' + name, 'malicious', technique, 'torch.jit.load', proven, '3.3.35', notes)


def rewrite_member(src, dst, member_suffix, edit):
    """Copy a torch.jit.save archive, passing one code member through edit()."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith(member_suffix):
                data = edit(data.decode()).encode()
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = info.compress_type
            zout.writestr(zi, data)


def main():
    import torch
    torch.manual_seed(0)
    os.makedirs(BENIGN, exist_ok=True)
    os.makedirs(MALICIOUS, exist_ok=True)
    work = tempfile.mkdtemp(prefix='mg-ts-')
    try:
        with open(os.path.join(work, 'mg_modules.py'), 'w') as f:
            f.write(MODULES)
        sys.path.insert(0, work)
        import mg_modules as M

        # ---- benign
        benign('scripted_control_flow.pt', torch.jit.script(M.Gate()),
               'torch.jit.script of a module with loops, if/else, dict/list containers, ModuleList, raise',
               "out = m(torch.ones(2, 4))\nassert set(out) == {'a', 'b', 'c'}\n")
        benign('scripted_setstate_plain.pt', torch.jit.script(M.WithState()),
               'scripted module with custom __getstate__/__setstate__ that only restore attributes',
               "assert m(torch.ones(4)).sum().item() == 6.0\n")
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                  torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3)).eval()
        benign('traced_convnet.pt', torch.jit.trace(net, torch.zeros(1, 3, 8, 8)),
               'torch.jit.trace of a small conv net', "m(torch.zeros(1, 3, 8, 8))\n")

        @torch.jit.script
        def topk_mask(x: torch.Tensor, k: int) -> torch.Tensor:
            v, _ = torch.topk(x, k)
            return (x >= v[..., -1:]).to(torch.float32)
        benign('scripted_function.pt', topk_mask, 'torch.jit.script of a free function (topk mask)',
               "m(torch.arange(6.0), 2)\n")

        lin = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)).eval()
        quant = torch.quantization.quantize_dynamic(lin, {torch.nn.Linear}, dtype=torch.qint8)
        benign('scripted_quantized_dynamic.pt', torch.jit.script(quant),
               'dynamically quantized (qint8) Linear stack: torch.classes.quantized packed params, ops.quantized',
               "m(torch.ones(1, 8))\n")
        lstm = torch.jit.script(M.Recurrent())
        path = os.path.join(BENIGN, 'lstm_lite.ptl')
        lstm._save_for_lite_interpreter(path)
        hit, rc, err = run(path, "import torch\nfrom torch.jit.mobile import _load_for_lite_interpreter\n"
                                 "m = _load_for_lite_interpreter(FILE)\nm(torch.zeros(1, 3, 4))\n")
        if rc != 0 or hit:
            raise SystemExit('benign lstm_lite.ptl: rc=%s marker=%s %s' % (rc, hit, err))
        add('benign/torchscript/lstm_lite.ptl', 'benign', 'scripted LSTM saved for the lite interpreter '
            '(bytecode.pkl plus code/)', 'torch.jit.mobile._load_for_lite_interpreter + call', True)

        # ---- malicious
        torch.jit.save(torch.jit.script(M.SaveOnLoad()), os.path.join(MALICIOUS, 'setstate_torch_save.pt'))
        malicious('setstate_torch_save.pt',
                  'scripted __setstate__ calls torch.save(tensor, "modelgate-marker"): torch.jit.load writes the '
                  'file while loading', LOAD)

        torch.jit.save(torch.jit.script(M.ReadsFile()), os.path.join(MALICIOUS, 'forward_from_file.pt'))
        malicious('forward_from_file.pt',
                  'forward() maps /etc/os-release into a tensor with torch.from_file (aten::from_file)',
                  LOAD + "import os\ny = m(torch.zeros(1))\n"
                  "secret = open('/etc/os-release', 'rb').read()\n"
                  "# proof only: the module read a file outside the archive\n"
                  "if int(y[0].item()) == secret[0]:\n    open(os.environ['MODELGATE_MARKER'], 'a').close()\n")

        # A real custom operator: registered in this process only, so loading elsewhere needs the
        # native library that defines it.
        lib = torch.library.Library('mg_native', 'DEF')
        lib.define('run(Tensor x) -> Tensor')
        lib.impl('run', lambda x: x.clone(), 'CPU')

        @torch.jit.script
        def uses_custom_op(x: torch.Tensor) -> torch.Tensor:
            return torch.ops.mg_native.run(x) * 2
        torch.jit.save(uses_custom_op, os.path.join(MALICIOUS, 'custom_op_namespace.pt'))
        malicious('custom_op_namespace.pt',
                  'scripted function calls torch.ops.mg_native.run, an operator from a custom namespace that '
                  'only a native library (torch.ops.load_library) provides', None,
                  notes='UNPROVEN: the operator was registered from Python while generating; torch.jit.load in a '
                        'fresh process fails with "Unknown builtin op" unless the native library is loaded first')

        # Hand-edited archive: Python the serializer never writes.
        src = os.path.join(work, 'plain.pt')
        torch.jit.save(torch.jit.script(M.WithState()), src)
        rewrite_member(src, os.path.join(MALICIOUS, 'edited_code_os_system.pt'), 'mg_modules.py',
                       lambda s: 'import os\n' + s.replace('return torch.mul(x, w)',
                                                           "os.system('touch modelgate-marker')\n"
                                                           "    return torch.mul(x, w)"))
        malicious('edited_code_os_system.pt',
                  'code/__torch__.py edited by hand to import os and call os.system in forward', LOAD + "m(torch.ones(4))\n",
                  proven_required=False,
                  notes='UNPROVEN: torch 1.13 jit.load refuses to compile the edited source; still a tampered archive')
    finally:
        shutil.rmtree(work, ignore_errors=True)

    MANIFEST.sort(key=lambda e: e['file'])
    with open(os.path.join(ROOT, 'manifest-torchscript.json'), 'w') as f:
        json.dump(MANIFEST, f, indent=1)
        f.write('\n')
    print('wrote %d TorchScript fixtures' % len(MANIFEST))


if __name__ == '__main__':
    main()
