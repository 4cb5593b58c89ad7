""""Copy as curl": the current request as a shell command a person can run — never a password.

GWS wants HTTP Basic credentials on every call, and the session cookie and CSRF token from
`GET /api/v2/me` before a POST: two curl calls. The command asks for the password once (not
echoed), hands it to both calls as a curl config on standard input (`-K -`, so it is never
in a process's arguments, where `ps` would show it), and forgets it at the end. It runs in
any POSIX shell (sh, dash, bash, zsh).
"""

from __future__ import annotations

import shlex

from console.domain.model import AddRecord

__all__ = ["as_curl"]

_ESCAPE = "sed 's/[\\\\\"]/\\\\&/g'"  # backslash and double quote, for a curl config string


def as_curl(base_url: str, username: str, record: AddRecord, verify: bool = True) -> str:
    api = base_url.rstrip("/") + "/api/v2"
    insecure = " -k" if not verify else ""
    body = shlex.quote(record.body_json())  # strict JSON, as the console posts it
    user = username.replace("\\", "\\\\").replace('"', '\\"')
    ask = (f"printf %s {shlex.quote(f'GWS password for {username}: ')} >&2; "
           "stty -echo 2>/dev/null; IFS= read -r GWS_PW; stty echo 2>/dev/null; echo >&2")
    config = (f"GWS_CFG=$(printf 'user = \"%s:%s\"' {shlex.quote(user)} "
              f"\"$(printf %s \"$GWS_PW\" | {_ESCAPE})\"); unset GWS_PW")
    get = (f"printf '%s\\n' \"$GWS_CFG\" | curl -s{insecure} -K - -c gws.jar -D - -o /dev/null "
           f"{shlex.quote(api + '/me')}")
    token = f"TOKEN=$({get} | tr -d '\\r' | awk -F': ' 'tolower($1)==\"x-csrf-token\"{{print $2}}')"
    post = (f"printf '%s\\n' \"$GWS_CFG\" | curl -s{insecure} -K - -b gws.jar "
            f"-H \"X-CSRF-TOKEN: $TOKEN\" -H 'Content-Type: application/json' -d {body} "
            f"{shlex.quote(api + '/me/outbound-records')}")
    return f"{ask}; {config}; {token} && {post}; unset GWS_CFG"
