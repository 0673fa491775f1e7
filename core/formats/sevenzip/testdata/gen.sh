#!/bin/sh
# Regenerates the 7z test archives with 7-Zip (Debian package 7zip, 7zz).
# model/evil.pkl is the protocol-0 pickle  cos\nsystem\n(S'true'\ntR.  (never loaded);
# model/weights.pkl is pickle.dumps({'w': [0.1, 0.2], 'name': 'tiny'}, protocol=4).
# slip_dotdot.7z is stored_plainheader.7z with the name patched to ../../evil.pkl
# and both CRCs recomputed (see the Python snippet in the commit that added it).
set -e
cd "$1"  # a directory holding model/, README.md and the two symlinks
7zz a -t7z ../multi_lzma2.7z model/weights.pkl model/evil.pkl README.md
7zz a -t7z -m0=lzma -ms=off ../nonsolid_lzma.7z model/weights.pkl README.md
7zz a -t7z -m0=copy -mhc=off ../stored_plainheader.7z model/evil.pkl
7zz a -t7z -m0=ppmd ../ppmd.7z model/weights.pkl README.md
7zz a -t7z -m0=bzip2 ../bzip2.7z model/evil.pkl
7zz a -t7z -m0=deflate ../deflate.7z model/evil.pkl
7zz a -t7z -pinfected ../encrypted_members.7z model/evil.pkl
7zz a -t7z -pinfected -mhe=on ../encrypted_header.7z model/evil.pkl
7zz a -t7z -snl ../symlinks.7z model/escape model/inside model/weights.pkl  # escape -> ../../../etc/passwd
7zz a -t7z -spf -m0=copy -mhc=off ../slip_absolute.7z "$PWD/model/evil.pkl"
