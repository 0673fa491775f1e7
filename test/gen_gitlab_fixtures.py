#!/usr/bin/python3
"""Generate the GitLab writers' fingerprint fixtures: one malicious "model" saved twice.

Run from the repository root with Debian's interpreter (stdlib only, no PyPI):

    /usr/bin/python3 test/gen_gitlab_fixtures.py

Writes gitlab/testdata/resaved/model_v1.pkl and model_v2.pkl. Both are real pickle.dump output
of a model dict whose "hook" entry reduces to os.system (posix.system) with a command that
only touches a marker file. v2 is the same model re-saved after "retraining": more weights and
an extra metadata key come before the hook, so the payload sits at another byte offset. The
GitLab SAST and Code Quality fingerprints must not change between the two.

Proof: each file is loaded with pickle.load in a throw-away subprocess (cwd = fresh temp dir,
MODELGATE_MARKER = a fresh temp path); the file is kept only if the marker appears. The
generator then checks that the payload offsets differ.
"""
import os
import pickle
import random
import subprocess
import sys
import tempfile

SHELL_CMD = 'touch "${MODELGATE_MARKER:-/tmp/modelgate-marker}"'
OUT = os.path.join('gitlab', 'testdata', 'resaved')


class Hook:
    def __reduce__(self):
        return (os.system, (SHELL_CMD,))


def model(n_weights, extra_meta):
    rnd = random.Random(12)
    m = {'weights': [round(rnd.uniform(-1, 1), 6) for _ in range(n_weights)],
         'config': {'layers': 2, 'activation': 'relu'}}
    if extra_meta:
        m['trained_on'] = 'data-v2'
    m['hook'] = Hook()
    return m


def prove(path):
    with tempfile.TemporaryDirectory() as td:
        marker = os.path.join(td, 'marker-from-env')
        code = 'import pickle,sys\nwith open(sys.argv[1], "rb") as f: pickle.load(f)\n'
        subprocess.run([sys.executable, '-c', code, os.path.abspath(path)], cwd=td, timeout=60,
                       env=dict(os.environ, MODELGATE_MARKER=marker), capture_output=True)
        if not os.path.exists(marker):
            raise SystemExit('%s did not create the marker when loaded' % path)


def main():
    os.makedirs(OUT, exist_ok=True)
    offsets = []
    for name, n, extra in (('model_v1.pkl', 16, False), ('model_v2.pkl', 400, True)):
        data = pickle.dumps(model(n, extra), protocol=4)
        offsets.append(data.index(b'system'))
        path = os.path.join(OUT, name)
        with open(path, 'wb') as f:
            f.write(data)
        prove(path)
        print('%s: %d bytes, payload global at offset %d, proven live' % (path, len(data), offsets[-1]))
    if offsets[0] == offsets[1]:
        raise SystemExit('payload offsets must differ')


if __name__ == '__main__':
    main()
