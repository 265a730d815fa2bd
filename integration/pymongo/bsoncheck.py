"""bsoncheck.py FILE.bson: read a mongodump .bson file with PyMongo's BSON
library, as a tool other than strata's own Go code would.

Every document is decoded into Python objects and encoded again; the output
(JSON) says how many documents there were, how many came back byte for byte
(so PyMongo understood every field), and the SHA-256 of the file's
documents, for the caller to compare with the server's.
"""
import hashlib
import json
import struct
import sys

import bson
from bson.codec_options import CodecOptions

OPTS = CodecOptions(tz_aware=True)


def main(path):
    n = same = 0
    h = hashlib.sha256()
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off < len(data):
        (size,) = struct.unpack_from("<i", data, off)
        raw = data[off : off + size]
        if size < 5 or len(raw) != size:
            sys.exit(f"{path}: truncated document at offset {off}")
        doc = bson.decode(raw, codec_options=OPTS)
        if bson.encode(doc, codec_options=OPTS) == raw:
            same += 1
        h.update(raw)
        n += 1
        off += size
    # decode_file_iter is what bsondump-like scripts use; it must agree.
    with open(path, "rb") as f:
        iterated = sum(1 for _ in bson.decode_file_iter(f, codec_options=OPTS))
    print(json.dumps({"documents": n, "reencoded_identical": same, "decode_file_iter": iterated, "sha256": h.hexdigest()}))


if __name__ == "__main__":
    main(sys.argv[1])
