"""A student's first exercise in a real JupyterLab (headless Chromium), in a workspace made by the kit.

`backprop-kit workspace` makes a fresh workspace (the stubs), `backprop-kit lab` serves it. In the browser
the test checks that notebook 01 opened by itself and that nbgrader's instructor tools are hidden while
the student's stay; then it does what a student does: opens notebook 02 from the file browser and runs it
(the reciprocal test cell fails: not written yet), opens backprop_lib/gates.py from the file browser,
writes reciprocal_backward in the editor and saves, re-runs the test cell, and sees it pass in the same
kernel (autoreload; no restart). Screenshots go to tests/artifacts/jupyterlab-workspace/.
"""

import os
from pathlib import Path

import pytest
from headless_chromium import launched
from lab_server import WorkspaceLab
from test_jupyterlab_widgets import NOTEBOOK_OPEN, RUN_ALL

from backprop_lib.kit import workspace

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "jupyterlab-workspace"
NOTEBOOK = "02_computation_graphs.ipynb"
TEST_CELL = 'result = checked("reciprocal_backward")'
ANSWER = "    x = cache\n    return (dout * (-1.0 / x**2),)"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

NBGRADER_COMMANDS = """
() => Object.fromEntries(
  ["nbgrader:open-create-assignment", "nbgrader:open-formgrader", "nbgrader:open-course-list",
   "nbgrader:open-assignment-list"].map((id) => [id, window.jupyterapp.commands.hasCommand(id)]))
"""

MENU_LABELS = "() => Array.from(document.querySelectorAll('.lm-MenuBar-itemLabel')).map((e) => e.textContent)"

CELL_RUN = """
async ([name, marker]) => {
  const app = window.jupyterapp;
  const panel = Array.from(app.shell.widgets("main")).find((w) => w.context && w.context.path === name);
  app.shell.activateById(panel.id);
  const notebook = panel.content;
  const index = notebook.widgets.findIndex((cell) => cell.model.sharedModel.getSource().includes(marker));
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  await app.commands.execute("notebook:run-cell");
  const outputs = notebook.widgets[index].model.outputs.toJSON();
  return {kernel: panel.sessionContext.session.kernel.id, outputs: outputs};
}
"""


def stub_line(text, function):
    (line,) = [line for line in text.splitlines() if line.strip().startswith(f'raise NotImplementedError("{function}')]
    return line


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    made = workspace.create(tmp_path_factory.mktemp("student") / "backprop-workspace")
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    with WorkspaceLab(made, tmp_path_factory.mktemp("jupyterlab"), env=env) as server:
        yield server


@pytest.fixture(scope="module")
def page(lab):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS.parent / ".gitignore").write_text("*\n")
    with launched() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        opened = lab.opened_url()
        assert opened == f"{lab.url}/lab/tree/01_chain_rule.ipynb", opened
        page.goto(opened)
        yield page


def test_lab_opens_notebook_01_at_the_workspace_root_without_instructor_tools(page):
    page.wait_for_function(NOTEBOOK_OPEN, arg="01_chain_rule.ipynb", timeout=60_000)
    listing = page.locator(".jp-DirListing-content")
    for name in ("backprop_lib", "01_chain_rule.ipynb", NOTEBOOK, "gradient_flow_explorer.ipynb"):
        assert listing.get_by_text(name, exact=True).count() == 1, f"{name} not in the file browser"
    page.locator(".jp-NotebookPanel .jp-MarkdownCell").first.wait_for(timeout=60_000)  # rendered
    page.screenshot(path=ARTIFACTS / "1-workspace-opened.png")
    assert page.evaluate(NBGRADER_COMMANDS) == {
        "nbgrader:open-create-assignment": False,
        "nbgrader:open-formgrader": False,
        "nbgrader:open-course-list": False,
        "nbgrader:open-assignment-list": True,
    }
    assert "Nbgrader" not in page.evaluate(MENU_LABELS)


def test_an_exercise_written_in_the_editor_passes_its_test_cell_without_a_restart(lab, page):
    listing = page.locator(".jp-DirListing-content")
    listing.get_by_text(NOTEBOOK, exact=True).dblclick()
    page.wait_for_function(NOTEBOOK_OPEN, arg=NOTEBOOK, timeout=60_000)
    assert page.evaluate(RUN_ALL, NOTEBOOK), "Run All stopped"
    before = page.evaluate(CELL_RUN, [NOTEBOOK, TEST_CELL])
    (error,) = before["outputs"]
    assert error["ename"] == "NotImplementedError", error

    gates = lab.root / "backprop_lib" / "gates.py"
    stub = gates.read_text()
    listing.get_by_text("backprop_lib", exact=True).dblclick()
    listing.get_by_text("gates.py", exact=True).dblclick()
    editor = page.locator(".jp-FileEditor .cm-content")
    editor.wait_for(timeout=30_000)
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(stub.replace(stub_line(stub, "reciprocal_backward"), ANSWER))
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=30_000
    )  # the tab's unsaved-changes mark is gone
    assert ANSWER in gates.read_text(), "the editor saved the file"
    page.screenshot(path=ARTIFACTS / "2-gates-py-edited.png")

    after = page.evaluate(CELL_RUN, [NOTEBOOK, TEST_CELL])
    page.screenshot(path=ARTIFACTS / "3-test-cell-passes.png")
    assert after["outputs"] == [], after["outputs"]
    assert after["kernel"] == before["kernel"], "the same kernel: no restart"
    assert page.errors == []
