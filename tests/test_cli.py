"""The command-line contract other tools rely on: JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "retrieval", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=environment, timeout=300
    )


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    base = tmp_path_factory.mktemp("cli")
    corpus = base / "corpus"
    corpus.mkdir()
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        (corpus / path.name).write_bytes(path.read_bytes())
    (corpus / "notes.xyz").write_text("unsupported", encoding="utf-8")
    result = run("build", "--corpus", str(corpus), "--index", str(base / "index"), "--json")
    assert result.returncode == 0, result.stderr
    return corpus, base / "index", json.loads(result.stdout)


def test_build_json_contract(cli_index: tuple[Path, Path, dict]) -> None:
    _, _, report = cli_index
    for key in ("documents", "chunks", "embedded", "reused", "removed", "skipped", "seconds"):
        assert key in report
    assert report["documents"] == 5 and report["embedded"] == report["chunks"] > 50 and report["reused"] == 0
    assert report["skipped"] == [{"path": "notes.xyz", "reason": report["skipped"][0]["reason"]}]
    assert "unsupported file type .xyz" in report["skipped"][0]["reason"]
    assert isinstance(report["seconds"], float)


def test_no_change_rebuild_reuses_everything(cli_index: tuple[Path, Path, dict]) -> None:
    corpus, index, first = cli_index
    result = run("build", "--corpus", str(corpus), "--index", str(index), "--json")
    report = json.loads(result.stdout)
    assert (report["embedded"], report["reused"], report["removed"]) == (0, first["chunks"], 0)


def test_ask_json_contract(cli_index: tuple[Path, Path, dict]) -> None:
    _, index, _ = cli_index
    result = run("ask", "How should I sleep when my lower back hurts?", "--index", str(index), "--json", "-k", "2")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["query"] == "How should I sleep when my lower back hurts?"
    assert len(answer["passages"]) == 2
    for passage in answer["passages"]:
        assert {"text", "source", "title", "score", "highlight"} <= set(passage)
        assert passage["source"].endswith(".txt") and passage["text"]
    assert answer["passages"][0]["source"] == "back-pain-relief-sleep-posture.txt"
    assert answer["disclaimer"] and answer["disclaimer"] in answer["message"]
    assert answer["passages"][0]["source"] in answer["message"]
    assert answer["triage"] == "none" and answer["covered"] is True


def test_ask_reads_the_whole_of_a_long_message_for_triage(cli_index: tuple[Path, Path, dict]) -> None:
    _, index, _ = cli_index
    message = "my back is sore after moving house and stretching helps a bit. " * 90 + "now i cannot feel my bum when i wipe"
    result = run("ask", message, "--index", str(index), "--json")
    answer = json.loads(result.stdout)
    assert answer["triage"] == "emergency" and answer["passages"] == [] and answer["message"].startswith(answer["care_card"])


def test_ask_reads_one_question_per_line_and_answers_each(cli_index: tuple[Path, Path, dict]) -> None:
    _, index, _ = cli_index
    result = run("ask", "--index", str(index), "--json", stdin="is heat or ice better for a sore back\n\nwrite me a poem about cheese\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["is heat or ice better for a sore back", "write me a poem about cheese"]
    assert lines[0]["covered"] is True and lines[0]["passages"]
    assert lines[1]["covered"] is False and lines[1]["passages"] == [] and lines[1]["disclaimer"]


def test_a_candidate_red_flag_classifier_is_chosen_with_an_environment_variable(cli_index: tuple[Path, Path, dict], tmp_path: Path) -> None:
    """RETRIEVAL_FLAG_MODEL runs the product on a retrained classifier (train_flags --out) without
    copying it over models/redflag-classifier/. The candidate here raises every message to an
    emergency (its thresholds are 0), so a question the shipped classifier answers gets the card."""
    import shutil

    import numpy as np

    from retrieval.safety.learned_flags import MODEL_DIR

    candidate = tmp_path / "candidate"
    shutil.copytree(MODEL_DIR, candidate)
    with np.load(candidate / "head.npz", allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    np.savez_compressed(candidate / "head.npz", **arrays | {"flag_threshold": np.float32(0.0), "emergency_threshold": np.float32(0.0)})
    _, index, _ = cli_index
    question = "How should I sleep when my lower back hurts?"
    shipped = json.loads(run("ask", question, "--index", str(index), "--json").stdout)
    result = run("ask", question, "--index", str(index), "--json", env={"RETRIEVAL_FLAG_MODEL": str(candidate)})
    assert result.returncode == 0, result.stderr
    assert shipped["triage"] == "none" and json.loads(result.stdout)["triage"] == "emergency"
    missing = run("ask", question, "--index", str(index), env={"RETRIEVAL_FLAG_MODEL": str(tmp_path / "nowhere")})
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "RETRIEVAL_FLAG_MODEL=" in missing.stderr and "nowhere" in missing.stderr and "train_flags --out" in missing.stderr


def test_ask_text_output_shows_sources_and_disclaimer(cli_index: tuple[Path, Path, dict]) -> None:
    _, index, _ = cli_index
    result = run("ask", "what stretches help lower back pain", "--index", str(index))
    assert result.returncode == 0
    assert "Source: " in result.stdout and "not medical advice" in result.stdout.lower()


def test_chunks_json_contract(cli_index: tuple[Path, Path, dict]) -> None:
    _, index, report = cli_index
    result = run("chunks", "--index", str(index), "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == report["chunks"]
    for row in rows:
        assert {"id", "source", "title", "text", "tokens"} <= set(row)
        assert 0 < row["tokens"] <= 256
        assert not row["text"].startswith(row["title"])  # passage text has no embedding prefix


def test_clean_prints_the_cleaned_text() -> None:
    result = run("clean", "corpus/lower-back-pain-after-working-out-legs.txt", "--explain")
    assert result.returncode == 0
    assert "Click Here" not in result.stdout and "Ice is best in the initial 24 to 48 hours" in result.stdout
    assert "[call to action] >>> Click Here For Effective Lower Back Pain Relief" in result.stderr


def test_clean_shows_the_title_without_its_search_keyword_and_says_why() -> None:
    result = run("clean", "corpus/back-pain-relief-sleep-posture.txt", "--explain")
    assert result.returncode == 0
    assert result.stdout.startswith("# This Typically Forgotten Muscle Mass Has Actually Caused Millions To Endure With Back Pain\n")
    assert "[keyword stuffing in the title] This Typically" in result.stderr and "afyer legs massage" in result.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (("ask", "hello", "--index", "/nonexistent/index"), "no index in /nonexistent/index/: run `python -m retrieval build` first"),
        (("build", "--corpus", "/nonexistent/corpus", "--index", "/tmp/x-index"), "corpus folder /nonexistent/corpus/ does not exist"),
        (("chunks", "--index", "/nonexistent/index", "--json"), "no index in"),
    ],
)
def test_user_errors_are_one_line_with_exit_1_and_no_traceback(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_empty_corpus_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    result = run("build", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"))
    assert result.returncode == 1 and "has no documents" in result.stderr and "Traceback" not in result.stderr


def test_corrupt_index_is_reported_with_the_fix(cli_index: tuple[Path, Path, dict], tmp_path: Path) -> None:
    import shutil

    _, index, _ = cli_index
    copy = tmp_path / "index"
    shutil.copytree(index, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / manifest["generation"] / "vectors.npy").write_bytes(b"\x93NUMPY garbage")
    result = run("ask", "back pain", "--index", str(copy), "--json")
    assert result.returncode == 1
    assert "build --full" in result.stderr and "Traceback" not in result.stderr


def test_help_is_fast_and_does_not_import_torch() -> None:
    code = "import retrieval.cli, sys; assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules and 'faiss' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
    for command in ("build", "ask", "chunks", "clean", "status", "eval"):
        result = run(command, "--help")
        assert result.returncode == 0 and "Usage:" in result.stdout


def test_settings_from_environment() -> None:
    settings = Settings.from_env({"RETRIEVAL_INDEX": "/x", "RETRIEVAL_TOP_K": "5", "RETRIEVAL_MODEL": "/models/m"})
    assert (str(settings.index_dir), settings.top_k, settings.model) == ("/x", 5, "/models/m")
    with pytest.raises(ValueError, match="RETRIEVAL_TOP_K"):
        Settings.from_env({"RETRIEVAL_TOP_K": "many"})
    assert Settings.from_env({"RETRIEVAL_SENTENCE_VECTORS": "off"}).sentence_vectors is False
    assert Settings.from_env({"RETRIEVAL_SENTENCE_VECTORS": "On"}).sentence_vectors is True
    with pytest.raises(ValueError, match="RETRIEVAL_SENTENCE_VECTORS='maybe' is not a valid switch: use on or off"):
        Settings.from_env({"RETRIEVAL_SENTENCE_VECTORS": "maybe"})
