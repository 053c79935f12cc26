"""Reference for bench/data-prep: Pillow doing what `lw data things` does per image.

open JPEG -> RGB -> resize((S, S), BILINEAR) (anisotropic, antialiased, no crop) -> raw bytes, all
appended to one output file (the shard stand-in). Prints one JSON line: {"images", "seconds"}.
usage: pillow_resize.py LIST_FILE OUT_FILE SIZE PROCESSES
"""
import json
import sys
import time
from multiprocessing import Pool

from PIL import Image


def convert(args):
    path, size = args
    with Image.open(path) as im:
        return im.convert('RGB').resize((size, size), Image.BILINEAR).tobytes()


def main():
    list_file, out_file, size, processes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    paths = [p for p in open(list_file).read().split('\n') if p]
    t0 = time.perf_counter()
    with open(out_file, 'wb') as out:
        if processes == 1:
            for p in paths:
                out.write(convert((p, size)))
        else:
            with Pool(processes) as pool:
                for b in pool.imap(convert, [(p, size) for p in paths], chunksize=16):
                    out.write(b)
    print(json.dumps({'images': len(paths), 'seconds': time.perf_counter() - t0}))


if __name__ == '__main__':
    main()
