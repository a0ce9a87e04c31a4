"""Write the 5,486-document MedQuAD corpus out as one .txt file per document, for scale benchmarks.

    .venv/bin/python bench/make_large_corpus.py            # -> bench/data/corpus_large/
    .venv/bin/python bench/make_large_corpus.py --out /tmp/large

Each file has the same shape as ``corpus_small/``: the title on line 1, a blank line, the text.
File names follow corpus_small's convention (``medlineplus-0000007-acupuncture.txt``); the 315
documents that are also in corpus_small get exactly their corpus_small name, so
``qrels_small.jsonl`` can be scored against the large index too. Existing identical files are
left alone, so running it twice is cheap and does not disturb an index built from the folder.
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from pathlib import Path

MEDQUAD = Path("/work/shared/eval/medquad")
DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "corpus_large"
_PREFIX = {"MPlusHealthTopics": "medlineplus", "NIHSeniorHealth": "seniorhealth"}


def file_name(doc_id: str, title: str) -> str:
    """``CancerGov_0000001_1`` + "Adult Acute Lymphoblastic Leukemia" ->
    ``cancergov-0000001-1-adult-acute-lymphoblastic-leukemia.txt`` (at most 77 characters)."""
    source, _, number = doc_id.partition("_")
    prefix = f"{_PREFIX.get(source, source.lower())}-{number.replace('_', '-')}"
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    name = f"{prefix}-{slug}"[:73].rstrip("-")
    return f"{name}.txt"


def write_corpus(out: Path, medquad: Path = MEDQUAD) -> int:
    """Write every document to ``out``; return how many files were (re)written."""
    known = {}
    manifest = medquad / "corpus_small_manifest.jsonl"
    if manifest.exists():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            known[row["doc_id"]] = row["file"]
    out.mkdir(parents=True, exist_ok=True)
    written, names = 0, set()
    with (medquad / "corpus_large_docs.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            name = known.get(row["id"]) or file_name(row["id"], row["title"])
            if name in names:
                raise ValueError(f"two documents map to {name}")
            names.add(name)
            body = f"{row['title']}\n\n{row['text'].strip()}\n"
            path = out / name
            if path.exists() and path.read_text(encoding="utf-8") == body:
                continue
            path.write_text(body, encoding="utf-8")
            written += 1
    for stale in out.glob("*.txt"):
        if stale.name not in names:
            stale.unlink()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    written = write_corpus(args.out)
    total = len(list(args.out.glob("*.txt")))
    print(f"{args.out}: {total} documents ({written} written)")


if __name__ == "__main__":
    main()
