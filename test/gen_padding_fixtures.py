#!/usr/bin/python3
"""Generate the trace-padding fixtures: pickles that pad the scanner's trace
with harmless calls or imports before the payload, each proven live.

A scanner bounds how many calls, imports and events it records. A version of
modelgate dropped what came after those bounds, so 100,000 harmless calls
followed by posix.system passed as clean. Each fixture here is gzip-compressed
(a few KB in the repository; the loader sees the padded pickle).

Run from the repository root with Debian's interpreter (python3-torch):

    /usr/bin/python3 test/gen_padding_fixtures.py

Writes test/fixtures/malicious/padding/*.pkl.gz and
test/fixtures/manifest-padding.json (same schema as manifest.json). The payload
only creates the marker file $MODELGATE_MARKER; a fixture is written only after
the real loader ran it in a throw-away subprocess and the marker appeared.
"""
import glob
import gzip
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_bypass_fixtures as bypass  # noqa: E402  (its prove: a throw-away loader process)

FIX = os.path.join(HERE, 'fixtures')
OUT = os.path.join(FIX, 'malicious', 'padding')
LOADER = 'gzip.open + pickle.load'
bypass.LOADERS[LOADER] = "import gzip, pickle\npickle.load(gzip.open(FILE))"
PAYLOAD = b"cposix\nsystem\n(S'touch \"${MODELGATE_MARKER:-/tmp/modelgate-marker}\"'\ntR."
# More than the trace holds (100,000 of each).
N = 100005


def compress(raw):
    bio = io.BytesIO()
    with gzip.GzipFile(fileobj=bio, mode='wb', mtime=0, compresslevel=9) as g:
        g.write(raw)
    return bio.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in glob.glob(os.path.join(OUT, '*')):
        os.remove(old)
    manifest = []
    # torch._tensor._rebuild_from_type_v2(OrderedDict, OrderedDict, (), {}) is
    # allowlisted and harmless, but it calls its first argument, so every call
    # is one the trace keeps.
    calls = (b'\x80\x02ctorch._tensor\n_rebuild_from_type_v2\nq\x00ccollections\nOrderedDict\nq\x0100'
             + b'h\x00(h\x01h\x01)}tR0' * N + PAYLOAD)
    # Repeated imports of one harmless global (picklers memoize globals; this one does not).
    imports = b'\x80\x02' + b'ccollections\nOrderedDict\n0' * N + PAYLOAD
    # SETITEMS on an OrderedDict() result, one trace event each.
    events = b'\x80\x02ccollections\nOrderedDict\n)Rq\x00' + b'h\x00(K\x01K\x02u0' * N + PAYLOAD
    # Both: the combination an earlier build passed as clean.
    both = calls[:-len(PAYLOAD)] + b'ccollections\nOrderedDict\n0' * N + PAYLOAD
    for name, raw, technique in [
        ('calls_then_system.pkl.gz', calls,
         '100,005 calls of the allowlisted torch._tensor._rebuild_from_type_v2(OrderedDict, ...), '
         'then posix.system: more calls than the trace keeps'),
        ('imports_then_system.pkl.gz', imports,
         '100,005 GLOBAL collections.OrderedDict, then posix.system: more imports than the trace keeps'),
        ('calls_and_imports_then_system.pkl.gz', both,
         '100,005 allowlisted calls and 100,005 imports, then posix.system: an earlier modelgate '
         'dropped the call and the import both and passed the file as clean'),
        ('setitems_then_system.pkl.gz', events,
         '100,005 SETITEMS on an OrderedDict() result, then posix.system: more events than the trace keeps'),
    ]:
        data = compress(raw)
        ok, rc, err = bypass.prove(data, LOADER)
        if not ok:
            sys.exit('NOT PROVEN: %s (rc=%s) %s' % (name, rc, err))
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)
        manifest.append({"file": 'malicious/padding/' + name, "label": "malicious", "format": "gzip",
                         "technique": technique, "catalogue": "3.2", "loader": LOADER, "proven": True})
        print('  proven  %-32s %7d bytes (%d decompressed)' % (name, len(data), len(raw)))
    with open(os.path.join(FIX, 'manifest-padding.json'), 'w') as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write('\n')


if __name__ == '__main__':
    main()
