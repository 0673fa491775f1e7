# Writes the Go fuzz seed corpora (testdata/fuzz/...) from the small committed fixtures.
# Run from the repo root: python3 test/fuzz_seeds.py
import os, sys, glob
def q(b):
    out = []
    for c in b:
        if c == 0x22: out.append('\\"')
        elif c == 0x5c: out.append('\\\\')
        elif 0x20 <= c < 0x7f: out.append(chr(c))
        else: out.append('\\x%02x' % c)
    return ''.join(out)
def write(dst, files, maxsize):
    os.makedirs(dst, exist_ok=True)
    for old in glob.glob(os.path.join(dst, 'seed_*')):
        os.remove(old)
    # The benign corpus repeats the same shapes hundreds of times; the
    # per-format fixtures already cover every parser path it reaches.
    files = [p for p in files if '/corpus/' not in p]
    for p in files:
        b = open(p,'rb').read()
        if len(b) > maxsize: continue
        name = os.path.basename(p).replace('.', '_')
        open(os.path.join(dst, 'seed_' + name), 'w').write('go test fuzz v1\n[]byte("%s")\n' % q(b))
fx = 'test/fixtures'
write('core/formats/list/testdata/fuzz/FuzzScan', [f for f in glob.glob(fx+'/**/*', recursive=True) if os.path.isfile(f)], 6000)
write('core/formats/zipfmt/testdata/fuzz/FuzzWalk', [f for f in glob.glob(fx+'/**/*', recursive=True) if os.path.isfile(f) and open(f,'rb').read(2) == b'PK' or f.endswith(('.pt','.npz','.zip'))], 12000)
write('core/pickle/testdata/fuzz/FuzzRun', [f for f in glob.glob(fx+'/**/*.pkl', recursive=True)], 4000)
compressed_ext = ('.gz', '.bz2', '.xz', '.lzma', '.zst', '.lz4', '.z', '.zlib')
write('core/formats/compressed/testdata/fuzz/FuzzDecompress', [f for f in glob.glob(fx+'/**/*', recursive=True) if os.path.isfile(f) and f.endswith(compressed_ext)], 8000)
write('core/formats/chattemplate/testdata/fuzz/FuzzTokenizerConfig', [f for f in glob.glob(fx+'/**/*tokenizer_config*.json', recursive=True)], 16000)
write('core/formats/picklefmt/testdata/fuzz/FuzzScan', [f for f in glob.glob(fx+'/**/*', recursive=True) if os.path.isfile(f) and f.endswith(('.pkl', '.pickle', '.joblib', '.p'))], 4000)
