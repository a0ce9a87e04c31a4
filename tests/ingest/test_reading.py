"""Reading files of every format and encoding: decoded correctly, or reported with a reason."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from pdfmaker import write_pdf

from retrieval.errors import DocumentRejected
from retrieval.ingest.reading import read_document

DIRTY = Path(__file__).resolve().parents[1] / "data" / "dirty"


def read(path: Path):  # type: ignore[no-untyped-def]
    return read_document(path, path.name)


def test_windows_1252_file_is_decoded_not_garbled() -> None:
    document = read(DIRTY / "desk-posture.txt")
    assert "the “perfect” chair – and café breaks count" in document.text
    assert "\ufffd" not in document.text
    assert document.notes == ("decoded as windows-1252",)


def test_latin1_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Rückenschmerzen: naïve façade, déjà vu, señor.".encode("latin-1"))
    assert read(path).text == "Rückenschmerzen: naïve façade, déjà vu, señor."


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-8", codecs.BOM_UTF8)])
def test_byte_order_marks_are_honoured(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(bom + "Sciatica — nerve pain 😖 down the leg.".encode(encoding))
    assert read(path).text == "Sciatica — nerve pain 😖 down the leg."


def test_utf8_with_emoji_and_accents(tmp_path: Path) -> None:
    path = tmp_path / "u.md"
    path.write_text("# Café stretches 🧘\n\nGentle yoga for the lower back.", encoding="utf-8")
    document = read(path)
    assert document.title == "Café stretches 🧘"
    assert "Gentle yoga for the lower back." in document.text


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"   \n\n\t  \n", "no text"),
        ("binary.txt", b"\x00\x01\x02binary\x00data" * 50, "binary file"),
        ("picture.png", b"\x89PNG\r\n", "unsupported file type .png"),
        ("noext", b"hello", "unsupported file type (no extension)"),
        ("misnamed.txt", b"%PDF-1.4\n%binary", "is a PDF"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "malformed PDF"),
    ],
)
def test_unreadable_files_are_rejected_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentRejected) as error:
        read(path)
    assert reason in error.value.reason


def test_pdf_text_layer_with_page_breaks(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "guide.pdf", [["Sciatica Guide", "Sciatica is pain along the sciatic nerve."], ["Walking daily helps recovery."]], title="Sciatica Guide")
    document = read(path)
    assert document.title == "Sciatica Guide"
    assert document.kind == "pdf"
    assert document.text.index("Sciatica is pain") < document.text.index("\f") < document.text.index("Walking daily")


def test_pdf_without_text_layer_is_rejected(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(DocumentRejected, match="no text layer"):
        read(path)


def test_html_main_text_only_no_scripts_or_navigation() -> None:
    document = read(DIRTY / "sciatica-blog.html")
    assert document.title == "Hamstring Stretches For Sciatica"
    assert "Tight hamstrings pull on the pelvis" in document.text
    for junk in ("__pwned", "We use cookies", "About us", "Privacy", "Great post", "Accept all", "<script", "onerror"):
        assert junk not in document.text


def test_markdown_raw_html_and_images_are_dropped() -> None:
    document = read(DIRTY / "best-mattress-for-sciatica.md")
    for junk in ("<script", "alert(", "onerror", "tracker.example.com", "pixel.png", "](", "**"):
        assert junk not in document.text
    assert "A medium-firm mattress supports the natural curve" in document.text


def test_file_too_large_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("word " * 300_000, encoding="utf-8")  # 1.5 M characters
    with pytest.raises(DocumentRejected, match="limit"):
        read(path)
