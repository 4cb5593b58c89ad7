"""The templates pane: campaign -> calling list -> template; load, replay, verdict (the
replay itself is the application layer's, run by the app).

The user's templates come first; the examples shipped with the package follow under their own
"examples" root (read-only: loading one and saving it, Ctrl+O, makes it the user's own).
Typing a template's name jumps to it (type-ahead), so letters are names here, not commands.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ProgressBar, Static, Tree
from textual.widgets.tree import TreeNode

from console.tui.plain import Plain

if TYPE_CHECKING:
    from console.domain.templates import Template, TemplateError

__all__ = ["TemplatesPane", "TemplateTree", "EXAMPLES_LABEL", "is_example"]

HELP = "type a name to find it   enter load   space mark   ^r replay (marked, or all below)"
EXAMPLES_LABEL = "examples (shipped, read-only)"
TYPE_AHEAD_PAUSE_S = 1.0
"""A pause longer than this starts a new search (as in file managers)."""


def is_example(template: Template) -> bool:
    """One of the examples shipped with the package (read-only)."""
    from console.example_templates import DIR as EXAMPLES

    return template.path is not None and EXAMPLES in template.path.resolve().parents


def _leaves(node: TreeNode[Template | None]) -> list[Template]:
    """The templates at and below a node, in tree order."""
    if node.data is not None:
        return [node.data]
    return [t for child in node.children for t in _leaves(child)]


def _leaf_nodes(node: TreeNode[Template | None]) -> list[TreeNode[Template | None]]:
    if node.data is not None:
        return [node]
    return [leaf for child in node.children for leaf in _leaf_nodes(child)]


class TemplateTree(Tree["Template | None"]):
    """The tree, with type-ahead (letters find a template by name) and space to mark."""

    BINDINGS = [
        # Space marks a template (on a campaign or calling list it folds, as in any tree).
        Binding("space", "mark", "Mark", id="templates.mark"),
        Binding("backspace", "type_back", "Back", show=False),
    ]

    class Found(Message):
        """What has been typed so far, and whether a template matches it."""

        def __init__(self, typed: str, found: bool) -> None:
            super().__init__()
            self.typed, self.found = typed, found

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(label, id=id)
        self.typed = ""
        """The name typed so far (type-ahead)."""
        self._typed_at = 0.0

    def process_label(self, label: str | Text) -> Text:
        # A str label as it is, not markup: folder names and a broken template's YAML error
        # (which quotes the file, `[` and all) are not ours (console/tui/plain.py).
        return super().process_label(Text(label) if isinstance(label, str) else label)

    def action_mark(self) -> None:
        node = self.cursor_node
        if node is not None and node.data is None:
            node.toggle()
            return
        pane = next((a for a in self.ancestors if isinstance(a, TemplatesPane)), None)
        if pane is not None:
            pane.action_mark()

    def on_key(self, event: events.Key) -> None:
        char = event.character
        if char is None or not event.is_printable or char == " ":
            return
        event.stop()
        event.prevent_default()
        now = time.monotonic()
        if now - self._typed_at > TYPE_AHEAD_PAUSE_S:
            self.typed = ""
        self._typed_at = now
        self.find(self.typed + char)

    def action_type_back(self) -> None:
        if self.typed:
            self._typed_at = time.monotonic()
            self.find(self.typed[:-1])

    def find(self, typed: str) -> bool:
        """Move the cursor to the first template whose name starts with `typed` (else
        contains it); a search that matches nothing keeps the cursor and says so."""
        self.typed = typed
        if not typed:
            self.post_message(self.Found("", True))
            return True
        wanted = typed.lower()
        leaves = _leaf_nodes(self.root)
        match = next((n for n in leaves if n.data is not None
                      and n.data.name.lower().startswith(wanted)), None) or \
            next((n for n in leaves if n.data is not None and wanted in n.data.name.lower()),
                 None)
        if match is not None:
            parent = match.parent
            while parent is not None:
                parent.expand()
                parent = parent.parent
            self.move_cursor(match)
        else:
            self.app.bell()
        self.post_message(self.Found(typed, match is not None))
        return match is not None


class TemplatesPane(Vertical):
    """A tree of the templates on the search path (then the examples), and the last replay's
    progress/verdict."""

    BINDINGS = [
        Binding("ctrl+r", "replay", "Replay", id="templates.replay"),
        Binding("ctrl+l", "reload", "Reload", id="templates.reload", show=False),
    ]

    DEFAULT_CSS = """
    TemplatesPane Tree { height: 1fr; }
    TemplatesPane #template-info { height: auto; max-height: 4; color: $text-muted; }
    TemplatesPane ProgressBar { height: 1; }
    TemplatesPane #replay-verdict { height: auto; }
    """

    class Load(Message):
        def __init__(self, template: Template) -> None:
            super().__init__()
            self.template = template

    class Replay(Message):
        def __init__(self, templates: list[Template]) -> None:
            super().__init__()
            self.templates = templates

    def __init__(self, profiles_dir: Path | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.profiles_dir = profiles_dir
        self.broken: list[TemplateError] = []
        self.marked: set[str] = set()
        """Keys (see `_key`) of the templates marked for a replay together."""

    def compose(self) -> ComposeResult:
        tree = TemplateTree("templates", id="template-tree")
        tree.show_root = False
        yield tree
        yield Plain(HELP, id="template-info")
        yield ProgressBar(id="replay-progress", show_eta=False)
        yield Plain("", id="replay-verdict")

    def on_mount(self) -> None:
        # Mounted when first shown, so reading the templates (YAML, the AddRecord model) never
        # delays the app's first frame.
        self.query_one(ProgressBar).display = False
        self.action_reload()

    def action_reload(self) -> None:
        from console.domain.templates import find_templates, template_dirs
        from console.example_templates import DIR as EXAMPLES
        from console.profiles import search_path

        tree = self.query_one("#template-tree", TemplateTree)
        tree.clear()
        self.broken = []
        self._add(tree.root, find_templates(template_dirs(search_path(self.profiles_dir))))
        examples = tree.root.add(EXAMPLES_LABEL, expand=True)
        self._add(examples, find_templates([EXAMPLES]))
        if self.broken:
            bad = tree.root.add(f"! {len(self.broken)} invalid", expand=False)
            for error in self.broken:
                bad.add_leaf(str(error)[:200])
        tree.cursor_line = 0

    def _add(self, under: TreeNode[Template | None],
             found: list[Template | TemplateError]) -> None:
        from console.domain.templates import TemplateError

        grouped: dict[str, dict[str, list[Template]]] = defaultdict(lambda: defaultdict(list))
        for item in found:
            if isinstance(item, TemplateError):
                self.broken.append(item)
            else:
                grouped[item.campaign][item.calling_list].append(item)
        for campaign in sorted(grouped):
            c_node = under.add(campaign, expand=True)
            for calling_list in sorted(grouped[campaign]):
                l_node = c_node.add(calling_list, expand=True)
                for template in sorted(grouped[campaign][calling_list], key=lambda t: t.name):
                    l_node.add_leaf(self._label(template), data=template)

    # Only template leaves carry data, so `data is not None` means a Template (and avoids
    # importing console.domain.templates, with YAML and the model, while the first frame is being drawn).
    def selected(self) -> Template | None:
        node = self.query_one("#template-tree", TemplateTree).cursor_node
        return node.data if node is not None else None

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[Template | None]) -> None:
        if event.node.data is not None:
            self.post_message(self.Load(event.node.data))

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Template | None]) -> None:
        self._show_info(event.node.data)

    @on(TemplateTree.Found)
    def _found(self, message: TemplateTree.Found) -> None:
        self._show_info(self.selected(), message.typed, message.found)

    def _show_info(self, template: Template | None, typed: str = "",
                   found: bool = True) -> None:
        info = self.query_one("#template-info", Static)
        lines = []
        if typed:
            lines.append(f"find: {typed}" + ("" if found else "  (no template matches)"))
        if template is not None:
            first = template.description.strip().splitlines()[0] if template.description else ""
            needs = template.placeholders()
            lines.append(f"{first}\nneeds: {', '.join(needs) or 'nothing'}   "
                         "enter load   space mark   ^r replay")
        else:
            lines.append(HELP)
        info.update("\n".join(lines))

    @staticmethod
    def _key(template: Template) -> str:
        return str(template.path or f"{template.campaign}/{template.calling_list}/"
                                    f"{template.name}")

    def _label(self, template: Template) -> str:
        return f"● {template.name}" if self._key(template) in self.marked else template.name

    def action_mark(self) -> None:
        """Mark or unmark the template under the cursor for a replay together."""
        node = self.query_one("#template-tree", TemplateTree).cursor_node
        if node is None or node.data is None:
            return
        key = self._key(node.data)
        self.marked.symmetric_difference_update({key})
        node.set_label(self._label(node.data))

    def all_templates(self) -> list[Template]:
        """Every valid template in the tree, in tree order (the examples last)."""
        return _leaves(self.query_one("#template-tree", TemplateTree).root)

    def to_replay(self) -> list[Template]:
        """The marked templates; else the one under the cursor; else all under the cursor's
        campaign or calling list."""
        marked = [t for t in self.all_templates() if self._key(t) in self.marked]
        if marked:
            return marked
        node = self.query_one("#template-tree", TemplateTree).cursor_node
        return _leaves(node) if node is not None else []

    def action_replay(self) -> None:
        templates = self.to_replay()
        if not templates:
            self.notify("choose a template first", severity="warning")
            return
        self.post_message(self.Replay(templates))

    def start_progress(self, total: int, text: str) -> None:
        """A replay (console.app.replay.ReplayRun, driven by the app) starts."""
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=total, progress=0)
        self.query_one("#replay-verdict", Static).update(text)

    def show_progress(self, finished: int, text: str) -> None:
        """Records with a verdict so far, and the progress line."""
        self.query_one(ProgressBar).update(progress=finished)
        self.query_one("#replay-verdict", Static).update(text)

    def show_verdict(self, text: str) -> None:
        self.query_one("#replay-verdict", Static).update(text)
