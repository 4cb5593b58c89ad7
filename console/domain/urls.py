"""URLs as they may be shown: never with a user or password inside.

A URL like `http://user:secret@host` is refused wherever one is given (--url, a profile): the
secret would otherwise reach the terminal, the journal and the shell history of anyone
reading over a shoulder. Messages show it with the user part replaced by `***`.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["safe_url", "has_credentials"]


def has_credentials(url: str) -> bool:
    """True when `url` may hold a user or password: any `@` counts (a GWS base URL has no
    other use for one, and `user:secret@host` without a scheme has no netloc to look at)."""
    return "@" in url


def safe_url(url: str) -> str:
    """`url` without its user:password@ part (what may be printed or written)."""
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or "@" not in parts.netloc:
        return "(a URL with '@', not shown)"
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
