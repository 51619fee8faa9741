"""Corpora in their stored formats, written by the real writers, and the oracle for them.

    corpus.py write DIR [--seed N] [--docs N] [--text FILE ...]
        JSON Lines (gzip, multi-frame zstd, plain, with blank and invalid lines),
        Parquet (pyarrow: snappy with dictionary pages, zstd with plain pages, nulls,
        many row groups) and a WET file (warcio, one gzip member per record).
    corpus.py parquet OUT --docs N --row-groups K [--text FILE ...]
        One FineWeb-shaped Parquet file (snappy) of K row groups; prints the byte span
        of the text column's chunk in each row group as JSON.
    corpus.py bench DIR --text FILE --mb N [--files K]
        The benchmark's corpora from one text cut into documents of 5 to 60 lines until
        N MB of text: C4-shaped JSON Lines gzip, FineWeb-shaped Parquet (snappy, 10,000
        rows per row group) and a WET corpus, K files each, and the same texts as plain
        files (each document and a line feed); prints their sizes as JSON.
    corpus.py texts OUT --field F FILE ...
        Each record's text, as Python's json, pyarrow and warcio read it, written to
        OUT one after another with a line feed after each (a lone surrogate written as
        U+FFFD, as the counter reads it); prints the records, skipped and invalid
        records, and the whitespace counts (str.split()) as JSON.

The project's npm scripts run it in .corpus/venv (scripts/corpus-venv.mjs).
"""

import argparse
import collections
import gzip
import io
import json
import math
import random
import re
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SURROGATE = re.compile("[\ud800-\udfff]")

# Text the generator draws on beyond the given files: escapes, CJK, astral characters,
# Python-only whitespace, a BOM, combining marks.
EXTRA = [
    "tab\there",
    "new\nline",
    'quote " and back\\slash',
    "中文 分布式 编程",
    "ーのか",
    "emoji 🎉 𝔘𝔫𝔦",
    "nbsp\u00a0and\u2003em",
    "\ufeffbom",
    "café naïve",
    "control\u0001char",
    "sep\u2028line",
    "",
]


def words_of(files):
    words = []
    for name in files:
        with open(name, encoding="utf-8") as f:
            words.extend(f.read().split())
    return words or ["alpha", "beta", "gamma"]


def make_doc(rng, words, long_every):
    n = rng.choice([0, 1, 3, 8, 20, 60, 200])
    parts = [rng.choice(words) for _ in range(n)]
    if rng.random() < 0.3:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(EXTRA))
    if rng.random() < 0.05:
        parts.append(rng.choice(["\ud83d", "\ude00"]))  # a lone surrogate
    sep = rng.choice([" ", " ", "\n", "  ", "\t"])
    doc = sep.join(parts)
    if long_every and rng.random() < long_every:
        doc = " ".join(rng.choice(words) for _ in range(40_000))  # a record of ~250 KB
    return doc


def dumps(value, ensure_ascii):
    # allow_nan: Python writes NaN as it reads it.
    return json.dumps(value, ensure_ascii=ensure_ascii)


FIELD = "text"


def jsonl_lines(rng, words, docs, ensure_ascii, invalid=False, long_every=0):
    field = FIELD
    lines = []
    for i in range(docs):
        doc = make_doc(rng, words, long_every)
        if "." in field:
            outer, inner = field.split(".", 1)
            record = {"id": i, outer: {inner: doc, "lang": "en"}, "text": "not this"}
        else:
            record = {field: doc, "id": i, "url": f"https://example.org/{i}", "score": 0.5}
        if rng.random() < 0.1:
            record["score"] = math.nan
        lines.append(dumps(record, ensure_ascii))
        if invalid and rng.random() < 0.08:
            lines.append(
                rng.choice(
                    [
                        "",
                        "   ",
                        "not json",
                        '{"text": 12}',
                        '{"id": 1}',
                        "[1, 2]",
                        '{"text": "cut',
                        '{"text": "a"} trailing',
                        '{"text": "dup", "text": "last wins"}',
                    ]
                )
            )
    return lines


def write(args):
    global FIELD
    FIELD = args.field
    rng = random.Random(args.seed)
    words = words_of(args.text)
    out = args.dir
    docs = args.docs

    # C4-shaped: one gzip stream, ASCII escapes.
    with gzip.open(f"{out}/c4-train.00000-of-00002.json.gz", "wt", encoding="utf-8") as f:
        for line in jsonl_lines(rng, words, docs, ensure_ascii=True):
            f.write(line + "\n")
    # Dolma-shaped: gzip members concatenated.
    with open(f"{out}/dolma-0001.json.gz", "wb") as f:
        lines = jsonl_lines(rng, words, docs, ensure_ascii=False)
        for start in range(0, len(lines), max(1, len(lines) // 4)):
            chunk = "".join(line + "\n" for line in lines[start : start + max(1, len(lines) // 4)])
            f.write(gzip.compress(chunk.encode("utf-8", "surrogatepass")))
    # The Pile-shaped: zstd, several frames, UTF-8 as is, a nested field beside.
    # As the zstd command writes them: a content size and a checksum in every frame.
    compressor = zstandard.ZstdCompressor(level=3, write_checksum=True)
    with open(f"{out}/00.jsonl.zst", "wb") as f:
        lines = jsonl_lines(rng, words, docs, ensure_ascii=False)
        step = max(1, len(lines) // 3)
        for start in range(0, len(lines), step):
            chunk = "".join(line + "\n" for line in lines[start : start + step])
            f.write(compressor.compress(chunk.encode("utf-8", "surrogatepass")))
    # RedPajama-shaped: plain JSONL, big enough to split, with blank and invalid lines
    # and a few long records.
    with open(f"{out}/redpajama.jsonl", "wb") as f:
        lines = jsonl_lines(rng, words, docs * 2, ensure_ascii=True, invalid=True, long_every=0.01)
        f.write("".join(line + "\n" for line in lines).encode("utf-8"))

    # FineWeb-shaped Parquet: snappy with dictionary pages, and zstd with plain pages.
    def table(n):
        texts = []
        for i in range(n):
            doc = SURROGATE.sub("\ufffd", make_doc(rng, words, 0))
            texts.append(None if rng.random() < 0.05 else doc)
        return pa.table(
            {
                "id": [f"<urn:uuid:{i}>" for i in range(n)],
                "text": pa.array(texts, pa.string()),
                "language": ["en"] * n,
            }
        )

    pq.write_table(
        table(docs),
        f"{out}/fineweb-000.parquet",
        compression="snappy",
        row_group_size=max(1, docs // 16),
        use_dictionary=True,
        data_page_size=4096,
    )
    pq.write_table(
        table(docs),
        f"{out}/fineweb-001.parquet",
        compression="zstd",
        row_group_size=max(1, docs // 5),
        use_dictionary=False,
    )

    # Common Crawl WET-shaped: warcinfo, then conversion records; one response (skipped)
    # and one text resource (counted) as well. And a plain WARC/1.1 file of resources.
    with open(f"{out}/notes.warc", "wb") as f:
        writer = WARCWriter(f, gzip=False, warc_version="1.1")
        for i in range(max(1, docs // 10)):
            doc = SURROGATE.sub("\ufffd", make_doc(rng, words, 0))
            kind = "text/plain" if i % 4 else "application/octet-stream"
            writer.write_record(
                writer.create_warc_record(
                    f"urn:note:{i}", "resource", payload=io.BytesIO(doc.encode("utf-8")), warc_content_type=kind
                )
            )
    with open(f"{out}/CC-MAIN-00000.warc.wet.gz", "wb") as f:
        writer = WARCWriter(f, gzip=True, warc_version="1.0")
        info = writer.create_warcinfo_record("CC-MAIN-00000.warc.wet.gz", {"software": "corpus.py"})
        writer.write_record(info)
        for i in range(docs):
            doc = SURROGATE.sub("\ufffd", make_doc(rng, words, 0))
            record = writer.create_warc_record(
                f"https://example.org/{i}",
                "conversion",
                payload=io.BytesIO(doc.encode("utf-8")),
                warc_content_type="text/plain",
            )
            writer.write_record(record)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                "https://example.org/page",
                "response",
                payload=io.BytesIO(b"<html>not counted</html>"),
                http_headers=headers,
            )
        )
        writer.write_record(
            writer.create_warc_record(
                "https://example.org/notes.txt",
                "resource",
                payload=io.BytesIO("resource text counted".encode("utf-8")),
                warc_content_type="text/plain",
            )
        )


def parquet(args):
    rng = random.Random(args.seed)
    words = words_of(args.text)
    texts = [SURROGATE.sub("\ufffd", make_doc(rng, words, 0)) for _ in range(args.docs)]
    table = pa.table({"id": list(range(args.docs)), "text": pa.array(texts, pa.string())})
    pq.write_table(
        table,
        args.out,
        compression=args.compression,
        row_group_size=-(-args.docs // args.row_groups),
        use_dictionary=args.dictionary,
    )
    meta = pq.ParquetFile(args.out).metadata
    spans = []
    for g in range(meta.num_row_groups):
        column = meta.row_group(g).column(1)
        start = column.dictionary_page_offset or column.data_page_offset
        spans.append({"start": start, "end": start + column.total_compressed_size})
    json.dump(spans, sys.stdout)


def bench(args):
    import os

    rng = random.Random(7)
    with open(args.text, encoding="utf-8") as f:
        lines = f.read().split("\n")
    target = args.mb * 1_000_000
    docs = []
    size = 0
    at = 0
    while size < target:
        n = rng.randint(5, 60)
        doc = "\n".join(lines[(at + i) % len(lines)] for i in range(n))
        at += n
        docs.append(doc)
        size += len(doc.encode("utf-8")) + 1
    k = args.files
    parts = [docs[i::k] for i in range(k)]
    os.makedirs(f"{args.dir}/plain", exist_ok=True)
    os.makedirs(f"{args.dir}/jsonl", exist_ok=True)
    os.makedirs(f"{args.dir}/parquet", exist_ok=True)
    os.makedirs(f"{args.dir}/wet", exist_ok=True)
    for i, part in enumerate(parts):
        name = f"{i:05d}-of-{k:05d}"
        with open(f"{args.dir}/plain/texts-{name}.txt", "w", encoding="utf-8") as f:
            for doc in part:
                f.write(doc + "\n")
        with gzip.open(f"{args.dir}/jsonl/c4-train.{name}.json.gz", "wt", encoding="utf-8") as f:
            for j, doc in enumerate(part):
                f.write(
                    json.dumps(
                        {"text": doc, "timestamp": "2019-04-25T12:57:54Z", "url": f"https://example.org/{i}/{j}"}
                    )
                    + "\n"
                )
        table = pa.table(
            {
                "text": pa.array(part, pa.string()),
                "id": [f"<urn:uuid:{i}-{j}>" for j in range(len(part))],
                "url": [f"https://example.org/{i}/{j}" for j in range(len(part))],
                "language": ["en"] * len(part),
            }
        )
        pq.write_table(table, f"{args.dir}/parquet/fineweb-{name}.parquet", compression="snappy", row_group_size=10_000)
        with open(f"{args.dir}/wet/CC-MAIN-{name}.warc.wet.gz", "wb") as f:
            writer = WARCWriter(f, gzip=True, warc_version="1.0")
            writer.write_record(writer.create_warcinfo_record(f"CC-MAIN-{name}.warc.wet.gz", {"software": "corpus.py"}))
            for j, doc in enumerate(part):
                writer.write_record(
                    writer.create_warc_record(
                        f"https://example.org/{i}/{j}",
                        "conversion",
                        payload=io.BytesIO(doc.encode("utf-8")),
                        warc_content_type="text/plain",
                    )
                )
    sizes = {}
    for kind in ["plain", "jsonl", "parquet", "wet"]:
        sizes[kind] = sum(os.path.getsize(f"{args.dir}/{kind}/{n}") for n in os.listdir(f"{args.dir}/{kind}"))
    json.dump({"documents": len(docs), "textBytes": size, "stored": sizes}, sys.stdout)


def special(args):
    """Parquet columns that are not one string per row, and a JSON-typed one."""
    table = pa.table(
        {
            "tags": pa.array([["x y", "z"], [], None], pa.list_(pa.string())),
            "text": pa.array(["alpha beta", None, "gamma"], pa.string()),
        }
    )
    pq.write_table(table, f"{args.dir}/list.parquet")
    docs = pa.array(['{"a": 1, "w": "hello world"}', '{"b": [2]}'], pa.json_())
    pq.write_table(pa.table({"text": docs}), f"{args.dir}/json.parquet")


def field_of(value, path):
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, str) else None


def open_text(name):
    with open(name, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        return b"".join(_zstd_frames(raw))
    return raw


def _zstd_frames(raw):
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True)
    while True:
        chunk = reader.read(1 << 20)
        if not chunk:
            break
        yield chunk


def texts(args):
    stats = collections.Counter()
    counts = collections.Counter()
    # Document frequency: each record is a document.
    documents = collections.Counter()
    first_invalid = None
    with open(args.out, "w", encoding="utf-8") as out:

        def emit(text):
            text = SURROGATE.sub("\ufffd", text)
            stats["records"] += 1
            counts.update(text.split())
            documents.update(set(text.split()))
            out.write(text + "\n")

        for name in args.files:
            if name.endswith(".parquet"):
                for value in pq.read_table(name, columns=[args.field]).column(0).to_pylist():
                    if value is None:
                        stats["skipped"] += 1
                    else:
                        emit(value)
            elif ".warc" in name:
                with open(name, "rb") as f:
                    for record in ArchiveIterator(f):
                        kind = record.rec_type
                        ctype = record.rec_headers.get_header("Content-Type") or ""
                        if kind == "conversion" or (
                            kind == "resource" and ctype.lower().startswith("text/")
                        ):
                            emit(record.content_stream().read().decode("utf-8", "replace"))
                        else:
                            stats["skipped"] += 1
            else:
                data = open_text(name)
                lines = data.split(b"\n")
                if lines and lines[-1] == b"":
                    lines.pop()
                for number, line in enumerate(lines, 1):
                    if line.strip(b" \t\r\n") == b"":
                        stats["skipped"] += 1
                        continue
                    try:
                        text = field_of(json.loads(line.decode("utf-8")), args.field)
                    except (UnicodeDecodeError, ValueError):
                        text = None
                    if text is None:
                        stats["invalid"] += 1
                        first_invalid = first_invalid or {"file": name, "line": number}
                    else:
                        emit(text)
    json.dump(
        {
            "records": stats["records"],
            "skipped": stats["skipped"],
            "invalid": stats["invalid"],
            "firstInvalid": first_invalid,
            "whitespace": dict(counts),
            "docFreq": dict(documents),
        },
        sys.stdout,
        ensure_ascii=False,
    )


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("dir")
    w.add_argument("--seed", type=int, default=1)
    w.add_argument("--docs", type=int, default=400)
    w.add_argument("--text", nargs="*", default=[])
    w.add_argument("--field", default="text", help="the JSON Lines records' text field")
    t = sub.add_parser("texts")
    t.add_argument("out")
    t.add_argument("--field", default="text")
    t.add_argument("files", nargs="+")
    p = sub.add_parser("parquet")
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--docs", type=int, default=1000)
    p.add_argument("--row-groups", type=int, default=16)
    p.add_argument("--compression", default="snappy")
    p.add_argument("--dictionary", type=lambda v: v == "true", default=True)
    p.add_argument("--text", nargs="*", default=[])
    b = sub.add_parser("bench")
    b.add_argument("dir")
    b.add_argument("--text", required=True)
    b.add_argument("--mb", type=int, default=200)
    b.add_argument("--files", type=int, default=4)
    sp = sub.add_parser("special")
    sp.add_argument("dir")
    args = parser.parse_args()
    commands = {"write": write, "texts": texts, "parquet": parquet, "bench": bench, "special": special}
    commands[args.command](args)


if __name__ == "__main__":
    main()
