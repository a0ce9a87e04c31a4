"""Stage 6, web: the chat people use.

``service`` (one long-lived ChatService: index, rebuilds, uploads, removals), ``chat_page`` (the
Gradio page and ``/ask``), ``chat_view`` (what the chat shows: care card, In short, folded
passages), ``conversation`` (chat state and past conversations), ``documents_tab`` and
``documents_view`` (the Documents tab), ``article_page`` (the readable article view),
``feedback``, ``trash`` and ``watcher`` (the corpus folder). ``assets/page.css`` holds the phone
layout, focus rings and contrast rules. ``app.py`` at the top of the repository only starts it.
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "service": ("ChatService",),
    "settings": ("AppSettings",),
    "chat_page": ("article_routes", "asset", "build_app"),
    "server": ("launch", "TerminalProgress", "print_start"),
})
