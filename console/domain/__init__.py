"""The domain: what an AddRecord is and what became of it, with no network I/O — the model
and its fields, CometD events, correlation of events to requests, templates, placeholders,
rows files, the journal, history, copy-as-curl, URLs as shown, safe YAML. The GWS I/O
(console.gws), the application layer (console.app) and the skins (console.cli, console.tui,
console.notebook) build on it; nothing here imports them."""
