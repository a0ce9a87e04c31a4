"""The server's settings (host, port, upload limit, admin password, concurrency, watching),
from the environment, and who may add and remove documents. The pipeline's own settings live in
:class:`retrieval.config.Settings`."""
from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from retrieval.config import env_values, on_or_off
from retrieval.errors import RetrievalError

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class AdminDenied(RetrievalError):
    """Uploading or removing documents is not allowed (wrong password, or switched off)."""


# Environment variable -> (AppSettings field, converter).
_APP_ENV_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "RETRIEVAL_HOST": ("host", str),
    "RETRIEVAL_PORT": ("port", int),
    "RETRIEVAL_MAX_UPLOAD_MB": ("max_upload_mb", float),
    "RETRIEVAL_ADMIN_PASSWORD": ("admin_password", str),
    "RETRIEVAL_CONCURRENCY": ("concurrency", int),
    "RETRIEVAL_WATCH": ("watch", on_or_off),
}


@dataclass(frozen=True)
class AppSettings:
    """Server settings (the pipeline's own live in :class:`Settings`).

    Environment: RETRIEVAL_HOST, RETRIEVAL_PORT, RETRIEVAL_MAX_UPLOAD_MB,
    RETRIEVAL_ADMIN_PASSWORD, RETRIEVAL_CONCURRENCY, RETRIEVAL_WATCH.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: float = 5.0
    admin_password: str = field(default="", repr=False)
    # Questions answered at once; each is one short CPU-bound encode, so about the core count.
    concurrency: int = 4
    # Watch corpus/ and rebuild on changes. "off" where something else builds the index (a
    # cron job, another replica) or the folder is on storage without change notifications.
    watch: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AppSettings:
        return cls(**env_values(_APP_ENV_FIELDS, environ))

    def with_overrides(self, **overrides: Any) -> AppSettings:
        """A copy with the given fields replaced; ``None`` values are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def is_local(self) -> bool:
        return self.host.strip("[]").lower() in LOCAL_HOSTS

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def admin_mode(self) -> str:
        """"open" on localhost, "password" elsewhere with a password set, otherwise "off"."""
        if self.is_local:
            return "open"
        return "password" if self.admin_password else "off"

    def check_admin(self, password: str | None) -> None:
        """Raise :class:`AdminDenied` unless this caller may upload and remove documents."""
        mode = self.admin_mode
        if mode == "open":
            return
        if mode == "off":
            raise AdminDenied(
                f"Adding and removing documents is switched off because the app listens on {self.host}, "
                "not only on this computer. Set RETRIEVAL_ADMIN_PASSWORD to allow it with a password."
            )
        given = (password or "").encode("utf-8")
        if not hmac.compare_digest(given, self.admin_password.encode("utf-8")):
            raise AdminDenied("Wrong or missing admin password: documents were not changed.")
