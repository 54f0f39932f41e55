"""Secrets at rest: webhook signing secrets sealed with Fernet under OMS_SECRET_KEY.

The key comes from the environment (`OMS_SECRET_KEY`, a Fernet key: 32 url-safe base64
bytes), so a database dump alone does not reveal the secrets. Without it (development), a key
is generated once into var/secret.key beside the project, with a warning in the log: keep that
file, or set the variable, or sealed secrets cannot be opened again.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from service.settings import PROJECT_ROOT

ENV = "OMS_SECRET_KEY"
DEV_KEY_FILE = PROJECT_ROOT / "var" / "secret.key"
log = logging.getLogger(__name__)
_lock = threading.Lock()


class SecretBox:
    """Seal and open short secrets with the process's key."""

    def __init__(self, key: bytes | str) -> None:
        self._fernet = Fernet(key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret; ValueError when another key sealed it."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(f"a secret sealed with another key than {ENV}'s") from exc


def default_box(env: dict[str, str] | None = None, key_file: Path = DEV_KEY_FILE) -> SecretBox:
    """The box of OMS_SECRET_KEY, else of the development key file (made on first use)."""
    key = (os.environ if env is None else env).get(ENV) or _dev_key(key_file)
    return SecretBox(key)


def _dev_key(path: Path) -> str:
    with _lock:
        if path.is_file():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key().decode()
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key + "\n")
        try:
            os.link(temporary, path)  # atomic: a racing process keeps the first key
        except FileExistsError:
            return path.read_text().strip()
        finally:
            temporary.unlink()
        log.warning("%s is not set: webhook secrets are sealed with a key generated into %s "
                    "(development only; set %s in production)", ENV, path, ENV)
        return key
