"""Stage 6, web: the chat people use.

``service`` (one long-lived ChatService: index, rebuilds, uploads, removals), ``chat_page`` (the
Gradio page and ``/ask``), ``chat_view`` (what the page shows), ``conversation`` (chat state),
``article_page`` (the readable article view), ``feedback``, ``trash`` and ``watcher`` (the
corpus folder). ``app.py`` at the top of the repository only starts it.
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "service": ("ChatService",),
    "settings": ("AppSettings",),
    "chat_page": ("article_routes", "asset", "build_app"),
    "server": ("launch", "TerminalProgress", "print_start"),
})
