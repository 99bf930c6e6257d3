"""Write the demo artist's songs: a slice of the starter's held-out verse blocks.

The demo songs come from the validation blocks of scripts/train_starter.py (corpus block i with
i % 20 == 0), so the bundled starter never trained on them: the first DEMO_BLOCKS of those,
leaving out any whose text the corpus repeats among the training blocks (one: block 3760).
They are written in corpus order, in the corpus's own format (blocks separated by one blank
line), gzipped with a zero timestamp so the file is byte-for-byte reproducible.

    python scripts/make_demo_slice.py
"""

from __future__ import annotations

import gzip
import sys

from train_starter import DATA, REPO, VAL_EVERY, read_blocks, split_blocks

OUT = REPO / "lyrictui" / "assets" / "demo" / "verse-demo.txt.gz"
DEMO_BLOCKS = 200


def main() -> None:
    train, val = split_blocks(read_blocks(DATA), VAL_EVERY)
    # The corpus repeats a few blocks: one that is also a training block is not held out.
    seen = set(train)
    unseen = [b for b in val if b not in seen]
    text = "\n\n".join(unseen[:DEMO_BLOCKS]) + "\n"
    tmp = OUT.with_suffix(".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(text.encode("utf-8"))
    tmp.replace(OUT)
    print(f"wrote {OUT.relative_to(REPO)}: {DEMO_BLOCKS} blocks, {OUT.stat().st_size} bytes",
          file=sys.stderr)


if __name__ == "__main__":
    main()
