#!/usr/bin/env python3
"""Writes the golden files for `whitespace` mode: inputs and the counts Python gives.

The expected counts are the seed article's own function, Counter(text.split()), over
the input decoded as UTF-8 with invalid bytes replaced (a leading BOM dropped, as the
project's contract says). Rows are ordered like `wordcount --counts`: count
descending, then the word's UTF-8 bytes ascending.

Run: python3 scripts/make-golden.py   (tests read the committed files; they never run Python)
"""
import json
import random
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "golden"

WHITESPACE = [c for c in map(chr, range(0x110000)) if c.isspace()]
assert len(WHITESPACE) == 29, len(WHITESPACE)

PIECES = WHITESPACE + [
    "a", "B", "the", "The", "cat,", "don't", "mother-in-law", "--", "3.14", "_",
    "é", "ß", "ΟΔΟΣ", "Я", "e\u0301", "’", "€", "\ufeff", "\ufffd", "\u200b", "\x00", "\x7f",
    "東京", "タワー", "ภาษา", "😀", "𝒜", "𠀋",
]
INVALID = [b"\xff", b"\x80", b"\xc0\xaf", b"\xe2\x80", b"\xed\xa0\x80", b"\xf0\x9f", b"\xc2", b"\xf4\x90\x80\x80"]


def unicode_mix(seed: int, parts: int) -> bytes:
    rng = random.Random(seed)
    out = bytearray(b"\xef\xbb\xbf")  # a leading BOM, which is ignored
    for _ in range(parts):
        if rng.random() < 0.03:
            out += rng.choice(INVALID)
        else:
            out += rng.choice(PIECES).encode("utf-8")
    return bytes(out)


def expected(data: bytes) -> list:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    counts = Counter(data.decode("utf-8", errors="replace").split())
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode("utf-8")))


def write(name: str, data: bytes, copy_input: bool = True) -> None:
    if copy_input:
        (OUT / f"{name}.txt").write_bytes(data)
    rows = expected(data)
    (OUT / f"{name}.whitespace.tsv").write_bytes("".join(f"{w}\t{c}\n" for w, c in rows).encode("utf-8"))
    meta = {"totalWords": sum(c for _, c in rows), "distinctWords": len(rows)}
    (OUT / f"{name}.whitespace.json").write_text(json.dumps(meta) + "\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # The sample is read from samples/ by the tests; no second copy.
    write("kjv-genesis", (ROOT / "samples" / "kjv-genesis.txt").read_bytes(), copy_input=False)
    write("unicode-mix", unicode_mix(seed=2026, parts=40_000))
    write("all-whitespace", "".join(f"w{i}{ws}" for i, ws in enumerate(WHITESPACE)).encode("utf-8"))


if __name__ == "__main__":
    main()
