#!/bin/sh
# outbound-console @VERSION@ for Linux x86_64 jump hosts: one file, no Python or packages
# needed (see the README of outbound-console, "On a jump host (no package index)").
#
# After these lines comes the console as a tar.gz: its own Python and every package, built
# with PyInstaller. The first run unpacks it into the user's cache folder (once per build);
# every run then replaces this script with it (exec), so the console itself gets the
# terminal's signals (Ctrl-C, hang-up) exactly as an installed one does.
set -eu
version=@VERSION@
build=@BUILD@
payload=@OFFSET@
glibc=@GLIBC@
me=outbound-console

case "$(uname -sm)" in
    "Linux x86_64") ;;
    *) echo "$me: this file runs on Linux x86_64 only, not on $(uname -sm)" >&2; exit 1 ;;
esac
host_glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc //p') || host_glibc=
if [ -n "$host_glibc" ] && [ "$(printf '%s\n%s\n' "$glibc" "$host_glibc" | sort -t. -k1,1n -k2,2n | head -n 1)" != "$glibc" ]; then
    echo "$me: needs glibc >= $glibc, this host has $host_glibc: build it on a distribution" \
         "as old as this host's (see the README)" >&2
    exit 1
fi

if [ -n "${OUTBOUND_CONSOLE_CACHE:-}" ]; then
    cache=$OUTBOUND_CONSOLE_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
    cache=$XDG_CACHE_HOME/outbound-console
elif [ -n "${HOME:-}" ]; then
    cache=$HOME/.cache/outbound-console
else
    echo "$me: set HOME or OUTBOUND_CONSOLE_CACHE (where to unpack the console)" >&2
    exit 1
fi
dir=$cache/$version-$build

if [ ! -x "$dir/$me" ]; then
    # mktemp -d: a private (0700) folder, renamed into place once complete.
    unpacking=$(mkdir -p "$cache" && mktemp -d "$cache/.unpacking.XXXXXX") || {
        echo "$me: cannot write to $cache: set OUTBOUND_CONSOLE_CACHE to a writable folder" >&2
        exit 1
    }
    trap 'rm -rf "$unpacking"' EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if ! tail -c +"$((payload + 1))" "$0" | tar -xzf - -C "$unpacking"; then
        echo "$me: cannot unpack into $cache (full disk? a truncated copy of this file?)" >&2
        exit 1
    fi
    # Atomic: a run in parallel either finds the whole folder or none. When another run
    # got there first, mv puts ours inside theirs: removed just after.
    mv "$unpacking" "$dir" 2>/dev/null || true
    rm -rf "$unpacking" "$dir/${unpacking##*/}"
    trap - EXIT HUP INT TERM
fi
if [ ! -x "$dir/$me" ]; then
    echo "$me: $dir/$me is missing: remove $dir and run again" >&2
    exit 1
fi
exec "$dir/$me" "$@"
