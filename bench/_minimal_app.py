"""The yardstick of bench/tui.py: a minimal Textual app (Header, Static, an Input that has the
focus, Footer) — the least a keyboard-first Textual screen can be: it shows, and a typed key
echoes."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Input, Static


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("minimal app ready")
        yield Input(placeholder="type here")
        yield Footer()


if __name__ == "__main__":
    Minimal().run()
