"""The application layer: what every skin (the CLI commands, the TUI, `console.api` and a
notebook) does the same way, with no UI in it.

- `console.app.target`: which server — options resolved once (profile, --url, --user,
  password), a `Target` value that names it, and opening it (simulator, connection, journal,
  engine).
- `console.app.replay`: a replay as an object a skin drives — plan, confirm, send with a rate
  and a concurrency, stop, partial verdict, resume and unconfirmed files — and rebuilding those
  files from the journal alone.
- `console.app.history`: the sends and replays of this session and of a journal.

Nothing is imported here, so that importing one part does not pay for the others.
"""
