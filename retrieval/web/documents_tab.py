"""The Documents tab: what is indexed and skipped, adding articles (a dropped file is added at
once), removing them to the trash and restoring them, the feedback people gave, and where the
API is documented.

Wiring only: :class:`retrieval.web.service.ChatService` does the work, :mod:`retrieval.web.documents_view`
says what is shown. One status, right under the upload box, tells how each action ended; after
every action the page scrolls it into view, so on a phone it is where the person is looking.

No ``from __future__ import annotations``: Gradio reads the handlers' annotations at run time.
"""

from pathlib import Path
from typing import Any

from retrieval.web import documents_view, feedback
from retrieval.web.service import ChatService
from retrieval.web.settings import AdminDenied, AppSettings
from retrieval.web.uploads import UploadRejected

PRIVATE = {"api_visibility": "private"}  # events the page uses, not part of the API
SHOW_RESULT = "() => { const el = document.querySelector('#upload-result'); if (el) el.scrollIntoView({block: 'center'}); }"


def documents_tab(service: ChatService, demo: Any) -> None:
    """The library: what is indexed and skipped, uploads, remove (to the trash) and restore, feedback."""
    import gradio as gr

    admin = service.app_settings
    locked = admin.admin_mode == "off"
    with gr.Tab("Documents") as tab:
        summary = gr.Markdown(elem_id="library-summary")
        gr.Markdown("### Add or remove articles")
        if locked:
            gr.Markdown(f"**Locked:** {_admin_denied(admin)}")
        password = gr.Textbox(
            label="Admin password (type it before choosing files)", type="password", visible=admin.admin_mode == "password"
        )
        uploads = gr.File(
            label=f"Add articles: drop or choose .txt, .md, .html, .htm or .pdf files (up to {admin.max_upload_mb:g} MB each); "
            "they are added at once",
            file_count="multiple",
            file_types=[".txt", ".md", ".html", ".htm", ".pdf"],
            interactive=not locked,
            elem_id="uploads",
        )
        result = gr.Markdown(elem_id="upload-result")
        with gr.Row():
            to_remove = gr.Dropdown(label="Article to remove", choices=[], interactive=not locked, scale=3, elem_id="to-remove")
            remove = gr.Button("Remove…", variant="stop", interactive=not locked, scale=1, elem_id="remove")
        with gr.Row(visible=False, elem_id="confirm-remove") as confirm_row:
            confirm_text = gr.Markdown()
            confirm = gr.Button("Yes, move it to the trash", variant="stop", size="sm", elem_id="confirm")
            cancel = gr.Button("Cancel", size="sm")
        with gr.Row():
            to_restore = gr.Dropdown(label="Removed articles (in the trash)", choices=[], interactive=not locked, scale=3, elem_id="to-restore")
            restore = gr.Button("Restore", interactive=not locked, scale=1, elem_id="restore")
        gr.Markdown("### Articles in the library")
        table = gr.HTML()
        gr.Markdown("### Files that were skipped")
        skipped = gr.HTML()
        gr.Markdown("### Feedback on answers")
        feedback_table = gr.HTML(elem_id="feedback-table")
        gr.Markdown(documents_view.API_NOTE, elem_id="api-note")
        api_page = gr.Button("How to call the API", size="sm", elem_id="api-page")

    def library() -> tuple[Any, ...]:
        rows = service.documents()
        removable = [(f"{row.title} ({row.doc_id})", row.doc_id) for row in rows]
        removable += [(f"{item['path']} (skipped)", item["path"]) for item in service.skipped()]
        trashed = [(f"{item.doc_id} (removed {item.removed_at} UTC)", item.trashed_as) for item in service.trashed()]
        return (
            documents_view.index_summary(service),
            documents_view.documents_html(rows),
            documents_view.skipped_html(service.skipped()),
            gr.Dropdown(choices=removable, value=None),
            gr.Dropdown(choices=trashed, value=None),
            documents_view.feedback_html(feedback.all_feedback(service.feedback_file)),
        )

    def rebuild(progress: gr.Progress) -> Any:
        ticket = service.request_rebuild()
        progress(0.0, desc="Updating the index")
        return service.wait_for_build(ticket, on_status=lambda status: _show(progress, status))

    def add_documents(files: list[str] | None, secret: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        if not files:
            return (gr.skip(), *(gr.skip() for _ in library_outputs), gr.skip())  # the box was cleared
        try:
            admin.check_admin(secret)
        except AdminDenied as denied:
            return (f"**Locked:** {denied}", *library(), None)
        saved, rejected = [], []
        for file in files:
            path = Path(file)
            try:
                saved.append(service.save_upload(path, path.name))
            except UploadRejected as problem:
                rejected.append(str(problem))
        outcome = rebuild(progress) if saved else None
        return (documents_view.upload_report(saved, rejected, outcome), *library(), None)

    def ask_to_remove(doc_id: str | None) -> tuple[Any, ...]:
        if not doc_id:
            return gr.Row(visible=False), "", documents_view.removal_report(None, "choose an article to remove first", None)
        text = f"Move **{documents_view.escape_markdown(doc_id)}** to the trash? You can restore it below."
        return gr.Row(visible=True), text, ""

    def remove_document(doc_id: str | None, secret: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        try:
            admin.check_admin(secret)
            if not doc_id:
                raise UploadRejected("choose an article to remove first")
            removed = service.remove_document(doc_id)
        except (AdminDenied, UploadRejected) as problem:
            return (documents_view.removal_report(None, str(problem), None), *library(), gr.Row(visible=False))
        return (documents_view.removal_report(removed, "", rebuild(progress)), *library(), gr.Row(visible=False))

    def restore_document(trashed_as: str | None, secret: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        try:
            admin.check_admin(secret)
            if not trashed_as:
                raise UploadRejected("choose a removed article to restore first")
            restored = service.restore_document(trashed_as)
        except (AdminDenied, UploadRejected) as problem:
            return (documents_view.restore_report(None, str(problem), None), *library())
        return (documents_view.restore_report(restored, "", rebuild(progress)), *library())

    library_outputs = [summary, table, skipped, to_remove, to_restore, feedback_table]
    admin_events = {"concurrency_limit": 1, "concurrency_id": "library", "show_progress_on": [result], **PRIVATE}
    uploads.upload(add_documents, [uploads, password], [result, *library_outputs, uploads], **admin_events).then(
        None, js=SHOW_RESULT
    )
    remove.click(ask_to_remove, [to_remove], [confirm_row, confirm_text, result], queue=False, **PRIVATE)
    cancel.click(lambda: gr.Row(visible=False), None, [confirm_row], queue=False, **PRIVATE)
    confirm.click(remove_document, [to_remove, password], [result, *library_outputs, confirm_row], **admin_events).then(
        None, js=SHOW_RESULT
    )
    restore.click(restore_document, [to_restore, password], [result, *library_outputs], **admin_events).then(
        None, js=SHOW_RESULT
    )
    api_page.click(None, js=documents_view.SHOW_API_PAGE)
    tab.select(library, None, library_outputs, **PRIVATE)
    demo.load(library, None, library_outputs, **PRIVATE)


def _show(progress: Any, status: Any) -> None:
    value, desc = documents_view.progress_step(status)
    progress(value, desc=desc)


def _admin_denied(admin: AppSettings) -> AdminDenied:
    try:
        admin.check_admin(None)
    except AdminDenied as denied:
        return denied
    return AdminDenied("")
