"""The templates pane: campaign -> calling list -> template; load, replay, verdict."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ProgressBar, Static, Tree
from textual.widgets.tree import TreeNode

if TYPE_CHECKING:
    from console.templates import Template, TemplateError

__all__ = ["TemplatesPane"]

HELP = "enter load into the form   m mark   r replay (marked, or all below)   ^r reload"


def _leaves(node: TreeNode[Template | None]) -> list[Template]:
    """The templates at and below a node, in tree order."""
    if node.data is not None:
        return [node.data]
    return [t for child in node.children for t in _leaves(child)]


class TemplatesPane(Vertical):
    """A tree of the templates on the search path, and the last replay's progress/verdict."""

    BINDINGS = [
        Binding("r", "replay", "Replay", id="templates.replay"),
        Binding("m", "mark", "Mark", id="templates.mark"),
        Binding("ctrl+r", "reload", "Reload", id="templates.reload"),
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
        tree: Tree[Template | None] = Tree("templates", id="template-tree")
        tree.show_root = False
        yield tree
        yield Static(HELP, id="template-info")
        yield ProgressBar(id="replay-progress", show_eta=False)
        yield Static("", id="replay-verdict")

    def on_mount(self) -> None:
        # Mounted when first shown, so reading the templates (YAML, the AddRecord model) never
        # delays the app's first frame.
        self.query_one(ProgressBar).display = False
        self.action_reload()

    def action_reload(self) -> None:
        from console.profiles import search_path
        from console.templates import TemplateError, find_templates, template_dirs

        tree = self.query_one("#template-tree", Tree)
        tree.clear()
        grouped: dict[str, dict[str, list[Template]]] = defaultdict(lambda: defaultdict(list))
        self.broken = []
        for item in find_templates(template_dirs(search_path(self.profiles_dir))):
            if isinstance(item, TemplateError):
                self.broken.append(item)
            else:
                grouped[item.campaign][item.calling_list].append(item)
        for campaign in sorted(grouped):
            c_node = tree.root.add(campaign, expand=True)
            for calling_list in sorted(grouped[campaign]):
                l_node = c_node.add(calling_list, expand=True)
                for template in sorted(grouped[campaign][calling_list], key=lambda t: t.name):
                    l_node.add_leaf(self._label(template), data=template)
        if self.broken:
            bad = tree.root.add(f"! {len(self.broken)} invalid", expand=False)
            for error in self.broken:
                bad.add_leaf(str(error)[:200])
        tree.cursor_line = 0

    # Only template leaves carry data, so `data is not None` means a Template (and avoids
    # importing console.templates, with pydantic, while the first frame is being drawn).
    def selected(self) -> Template | None:
        node = self.query_one("#template-tree", Tree).cursor_node
        return node.data if node is not None else None

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[Template | None]) -> None:
        if event.node.data is not None:
            self.post_message(self.Load(event.node.data))

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Template | None]) -> None:
        info = self.query_one("#template-info", Static)
        template = event.node.data
        if template is not None:
            first = template.description.strip().splitlines()[0] if template.description else ""
            needs = template.placeholders()
            info.update(f"{first}\nneeds: {', '.join(needs) or 'nothing'}   "
                        "enter load   m mark   r replay")
        else:
            info.update(HELP)

    @staticmethod
    def _key(template: Template) -> str:
        return str(template.path or f"{template.campaign}/{template.calling_list}/"
                                    f"{template.name}")

    def _label(self, template: Template) -> str:
        return f"● {template.name}" if self._key(template) in self.marked else template.name

    def action_mark(self) -> None:
        """Mark or unmark the template under the cursor for a replay together."""
        node = self.query_one("#template-tree", Tree).cursor_node
        if node is None or node.data is None:
            return
        key = self._key(node.data)
        self.marked.symmetric_difference_update({key})
        node.set_label(self._label(node.data))

    def all_templates(self) -> list[Template]:
        """Every valid template in the tree, in tree order."""
        return _leaves(self.query_one("#template-tree", Tree).root)

    def to_replay(self) -> list[Template]:
        """The marked templates; else the one under the cursor; else all under the cursor's
        campaign or calling list."""
        marked = [t for t in self.all_templates() if self._key(t) in self.marked]
        if marked:
            return marked
        node = self.query_one("#template-tree", Tree).cursor_node
        return _leaves(node) if node is not None else []

    def action_replay(self) -> None:
        templates = self.to_replay()
        if not templates:
            self.notify("choose a template first", severity="warning")
            return
        self.post_message(self.Replay(templates))

    def start_progress(self, total: int) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=total, progress=0)
        self.query_one("#replay-verdict", Static).update("replaying...")

    def advance(self) -> None:
        self.query_one(ProgressBar).advance(1)

    def show_verdict(self, text: str) -> None:
        self.query_one("#replay-verdict", Static).update(text)
