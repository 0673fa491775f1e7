#!/usr/bin/env python3
"""resolved_globals.py - ask CPython's own unpickler which globals a pickle stream names.

Differential oracle for modelgate's Go pickle emulator. Standard library only; runs on a
plain python3 without numpy/torch.

Usage:
    python3 resolved_globals.py FILE...
    find test/fixtures -name '*.pkl' | python3 resolved_globals.py      (paths on stdin, one a line)

For every file the bytes are read and the C unpickler (``pickle.Unpickler`` subclass) is run
over an ``io.BytesIO`` starting at offset 0; after each successful load (a STOP) it is run
again from the offset just after that STOP, until EOF or the first error. ``find_class``
records ``(module, name)`` exactly as the opcode passed them (no ``fix_imports`` mapping, no
dotted-path resolution, no import) and returns an inert stand-in *class*; ``persistent_load``
returns an inert stand-in instance. Nothing from the pickle is imported or executed.

Output: one JSON line per file
    {"file": PATH, "globals": [["module", "name"], ...],   # resolution order, duplicates kept
     "pickles": N,                                          # complete pickles (STOPs reached)
     "error": "message" | null, "error_offset": int | null}

Limitations (read before trusting a difference):
  * Stand-ins never fail. A real callable might raise (bad arguments, missing attribute,
    failed import) and CPython would stop there; here unpickling goes on, so the list is a
    superset of what a real load resolves before failing. Conversely the stand-in can only
    fail where the *opcode machinery itself* fails (stack underflow, bad memo key, STACK_GLOBAL
    on non-str operands, truncated data, unknown opcode, NEWOBJ on a non-type...).
  * Every stand-in (a resolved global, the result of any call, a persistent id) is a fresh
    real ``type`` (metaclass ``_StandinMeta``) so NEWOBJ, NEWOBJ_EX, OBJ and INST proceed as
    with a real class; stand-ins and their instances accept calls, ``__setstate__``, item
    assignment, append/extend/add, so REDUCE/BUILD/SETITEM(S)/APPEND(S)/ADDITEMS proceed.
    Values that CPython would compute (e.g. a STACK_GLOBAL operand produced by a REDUCE such as
    ``_codecs.decode('bf', 'rot13')``) are stand-ins here, so a later STACK_GLOBAL on them fails
    with "STACK_GLOBAL requires str" where CPython would resolve ``os.system``. Treat such an
    error as "computed global name" (which a scanner must flag), not as a parse failure.
  * EXT1/EXT2/EXT4 go through copyreg's extension registry first: unregistered codes (the
    default - the registry is empty in a fresh interpreter) raise before find_class is called.
  * ``error_offset`` is the BytesIO position when the error surfaced: the unpickler has
    consumed the failing opcode and its argument, so it points at/just after the bad opcode,
    not necessarily at its first byte.
  * Only raw pickle streams are understood. Containers (torch zip/tar, npy header, joblib
    arrays, compression) must be unpacked first: e.g. an .npy file errors at offset 0
    (``\\x93NUMPY`` starts with the STACK_GLOBAL opcode) and a torch zip errors on "PK".
  * Memory/time are not limited: a memo "billion laughs" pickle can exhaust the machine.
  * Recorded names are raw: protocol 0-2 pickles may say ``__builtin__``/``copy_reg`` where
    CPython (fix_imports=True) would import ``builtins``/``copyreg``; protocol >= 4 names may be
    dotted (``Trace.run``) and CPython walks them attribute by attribute.
"""
import io
import json
import pickle
import sys


def _inert():
    """Result of any call / persistent id: a fresh stand-in *class*, so that it can also be
    used where CPython needs a type (NEWOBJ/NEWOBJ_EX on a class returned by REDUCE or by
    persistent_load, as legacy torch.save does for nn.Module classes)."""
    return _StandinMeta('standin', (_StandinBase,), {})


class _StandinMeta(type):
    """Metaclass: calling a stand-in class (REDUCE, OBJ, INST with args) yields an instance."""

    def __call__(cls, *args, **kwargs):
        return _inert()

    def __setitem__(cls, key, value):
        pass

    def __getitem__(cls, key):
        return _inert()


class _StandinBase(metaclass=_StandinMeta):
    def __new__(cls, *args, **kwargs):  # NEWOBJ / NEWOBJ_EX / INST without args call tp_new
        return object.__new__(cls)

    # staticmethods so they work both on the class (BUILD/APPEND on a bare global) and instances
    __setstate__ = staticmethod(lambda *a, **k: None)
    append = staticmethod(lambda *a, **k: None)
    extend = staticmethod(lambda *a, **k: None)
    add = staticmethod(lambda *a, **k: None)
    update = staticmethod(lambda *a, **k: None)

    def __call__(self, *args, **kwargs):
        return _inert()

    def __setitem__(self, key, value):
        pass

    def __getitem__(self, key):
        return _inert()

    def __reduce__(self):
        return (_inert, ())

    def __getattr__(self, name):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        return _inert()


class RecordingUnpickler(pickle.Unpickler):
    def __init__(self, f, sink):
        super().__init__(f)
        self._sink = sink

    def find_class(self, module, name):
        # record exactly what the opcode passed (may be non-str for EXT/odd inputs)
        self._sink.append([module if isinstance(module, str) else repr(module),
                           name if isinstance(name, str) else repr(name)])
        safe = name if isinstance(name, str) else 'standin'
        return _StandinMeta(safe.replace('.', '_')[:64] or 'standin', (_StandinBase,), {})

    def persistent_load(self, pid):
        return _inert()


def analyse(path):
    rec = {"file": path, "globals": [], "pickles": 0, "error": None, "error_offset": None}
    try:
        with open(path, 'rb') as fh:
            data = fh.read()
    except OSError as e:
        rec["error"] = "read: %s" % e
        return rec
    bio = io.BytesIO(data)
    while bio.tell() < len(data):
        start = bio.tell()
        try:
            RecordingUnpickler(bio, rec["globals"]).load()
        except RecursionError as e:
            rec["error"], rec["error_offset"] = "RecursionError: %s" % e, bio.tell()
            break
        except Exception as e:  # noqa: BLE001 - any unpickling failure is data for the report
            rec["error"] = "%s: %s" % (type(e).__name__, e)
            rec["error_offset"] = bio.tell()
            break
        rec["pickles"] += 1
        if bio.tell() <= start:  # defensive: no progress
            break
    return rec


def main(argv):
    paths = argv[1:]
    if not paths:
        paths = [line.rstrip('\n') for line in sys.stdin if line.strip()]
    for p in paths:
        sys.stdout.write(json.dumps(analyse(p)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
