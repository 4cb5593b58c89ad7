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

# Checked at every run (a home shared over NFS may carry the cache to another host); in sh
# alone but for two small commands, as they add to every start.
host=$(uname -sm)
if [ "$host" != "Linux x86_64" ]; then
    echo "$me: this file runs on Linux x86_64 only, not on $host" >&2
    exit 1
fi
host_glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null) || host_glibc=
case "$host_glibc" in
    "glibc "[0-9]*.[0-9]*)
        host_glibc=${host_glibc#glibc }
        have_major=${host_glibc%%.*} have_minor=${host_glibc#*.}
        have_minor=${have_minor%%[!0-9]*} need_major=${glibc%%.*} need_minor=${glibc#*.}
        if [ "$have_major" -lt "$need_major" ] || { [ "$have_major" -eq "$need_major" ] &&
                [ "$have_minor" -lt "$need_minor" ]; }; then
            echo "$me: needs glibc >= $glibc, this host has $host_glibc: build it on a" \
                 "distribution as old as this host's (see the README)" >&2
            exit 1
        fi ;;
esac

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
