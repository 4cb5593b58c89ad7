""""Copy as curl": the current request as a shell command a person can run — never a password.

`curl -u USER` without a password makes curl ask for it. GWS needs the session cookie and the
CSRF token from `GET /api/v2/me` before a POST, so the command fetches them first.
"""

from __future__ import annotations

import shlex

from console.model import AddRecord

__all__ = ["as_curl"]


def as_curl(base_url: str, username: str, record: AddRecord, verify: bool = True) -> str:
    api = base_url.rstrip("/") + "/api/v2"
    user = shlex.quote(username)
    insecure = "" if verify else " -k"
    body = shlex.quote(record.body_json())
    get = (f"curl -s{insecure} -u {user} -c gws.jar -D - -o /dev/null "
           f"{shlex.quote(api + '/me')}")
    token = f"TOKEN=$({get} | tr -d '\\r' | awk -F': ' 'tolower($1)==\"x-csrf-token\"{{print $2}}')"
    post = (f"curl -s{insecure} -u {user} -b gws.jar -H \"X-CSRF-TOKEN: $TOKEN\" "
            f"-H 'Content-Type: application/json' -d {body} "
            f"{shlex.quote(api + '/me/outbound-records')}")
    return f"{token} && {post}"
