"""Execute examples/console.ipynb headless (nbclient, on a kernel running this interpreter) and
write its HTML export (examples/console.html) and, when a headless Chromium is installed, a
screenshot of it (examples/console.png). Jupyter's folders go to a temporary folder: nothing
is written to the home directory.

    python examples/render.py            # needs pip install -e '.[test]'
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

HERE = Path(__file__).resolve().parent
KERNEL = "outbound-console-render"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        root = Path(tmp)
        spec = root / "jupyter" / "kernels" / KERNEL
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "outbound-console", "language": "python"}))
        for name in ("JUPYTER_PATH", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR",
                     "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "HOME", "OUTBOUND_CONSOLE_HOME"):
            os.environ[name] = str(root / name.lower())
            (root / name.lower()).mkdir(exist_ok=True)
        os.environ["JUPYTER_PATH"] = str(root / "jupyter")
        nb = nbformat.read(HERE / "console.ipynb", as_version=4)
        NotebookClient(nb, kernel_name=KERNEL, timeout=120,
                       resources={"metadata": {"path": str(root)}}).execute()
        body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
        html = HERE / "console.html"
        html.write_text(body, encoding="utf-8")
        print(f"wrote {html}")
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser is None:
            print("no headless Chromium: no screenshot (the HTML export is the picture)")
            return 0
        png = HERE / "console.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--user-data-dir={root / 'chromium'}",
                        f"--screenshot={png}", "--window-size=1100,3300",
                        html.as_uri()], check=True, capture_output=True, timeout=120)
        print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
