"""The operator console: a thin Textual layer over the engine (console.gws.engine)."""
