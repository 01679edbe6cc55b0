"""Every notebook that uses the widgets, run in a real JupyterLab in headless Chromium.

One JupyterLab server (solution mode, scratch HOME, news toast off) serves copies
of the notebooks; for each one the test opens it, runs all cells, drags the first
slider of a widget, and checks that the widget's picture was redrawn, that no
cell failed and that the browser console logged no error. A screenshot of each
notebook after the slider move is saved under tests/artifacts/jupyterlab/.
"""

import os
import time
from pathlib import Path

import pytest
from headless_chromium import launched
from lab_server import JupyterLab, widget_notebooks

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = widget_notebooks(REPO / "notebooks")
ARTIFACTS = REPO / "tests" / "artifacts" / "jupyterlab"
RUN_ALL_TIMEOUT_MS = 180_000

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

RUN_ALL = """
async (name) => {
  const app = window.jupyterapp;
  await app.restored;
  const panel = Array.from(app.shell.widgets("main")).find((w) => w.context && w.context.path === name);
  await panel.context.ready;
  await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  return await app.commands.execute("notebook:run-all-cells");
}
"""

NOTEBOOK_OPEN = """
(name) => window.jupyterapp !== undefined
  && Array.from(window.jupyterapp.shell.widgets("main")).some((w) => w.context && w.context.path === name)
"""

SHUT_DOWN_KERNEL = """
async (name) => {
  const app = window.jupyterapp;
  const panel = app && Array.from(app.shell.widgets("main")).find((w) => w.context && w.context.path === name);
  if (panel) await panel.sessionContext.shutdown();
}
"""

FIRST_WIDGET_SLIDER = """
() => {
  for (const slider of document.querySelectorAll(".jp-Notebook .widget-slider")) {
    const box = slider.closest(".widget-vbox");
    const image = box && box.querySelector("img.widget-image");
    if (image) {
      slider.setAttribute("data-test", "slider");
      image.setAttribute("data-test", "image");
      const handle = slider.querySelector(".noUi-handle");
      return {now: Number(handle.getAttribute("aria-valuenow")), max: Number(handle.getAttribute("aria-valuemax"))};
    }
  }
  return null;
}
"""


def drag_to_the_other_end(page, slider):
    """Drag the marked slider's handle to the end of its track it is not at, as a user would."""
    handle = page.locator('[data-test="slider"] .noUi-handle')
    handle.scroll_into_view_if_needed()
    grip = handle.bounding_box()
    track = page.locator('[data-test="slider"] .noUi-target').bounding_box()
    y = grip["y"] + grip["height"] / 2
    target = track["x"] if slider["now"] >= slider["max"] else track["x"] + track["width"]
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(target, y, steps=8)
    page.mouse.up()


def wait_until_settled(page, image, timeout=20.0):
    """Wait until the picture stops changing (a drag sends several values; the last one is drawn last)."""
    deadline = time.monotonic() + timeout
    source = image.get_attribute("src")
    while time.monotonic() < deadline:
        page.wait_for_timeout(400)
        latest = image.get_attribute("src")
        if latest == source:
            return
        source = latest
    raise AssertionError(f"the widget kept redrawing for {timeout} s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = {**os.environ, "BACKPROP_KIT_SOLUTIONS": "1"}
    with JupyterLab(NOTEBOOKS, tmp_path_factory.mktemp("jupyterlab"), env=env) as server:
        yield server
    assert server.process.returncode is not None, "the server must be stopped"


@pytest.fixture(scope="module")
def browser():
    with launched() as chromium:
        yield chromium


class ScreenshotNote:
    """A pytest plugin that names the screenshot folder in the run's summary."""

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(f"screenshots of the widget notebooks: {ARTIFACTS}")


@pytest.fixture(scope="module")
def artifacts(request):
    """The screenshot folder (ignored by git through its own .gitignore), named in the run's summary."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS.parent / ".gitignore").write_text("*\n")
    if not request.config.pluginmanager.has_plugin("widget-screenshots"):
        request.config.pluginmanager.register(ScreenshotNote(), "widget-screenshots")
    return ARTIFACTS


def test_some_notebooks_use_the_widgets():
    assert any(path.name == "gradient_flow_explorer.ipynb" for path in NOTEBOOKS), NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_and_its_widgets_respond_in_the_browser(notebook, lab, browser, artifacts):
    (artifacts / f"{notebook.stem}-failed.png").unlink(missing_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        page.goto(f"{lab.url}/lab/workspaces/{notebook.stem}/tree/{notebook.name}?reset")
        page.wait_for_function(NOTEBOOK_OPEN, arg=notebook.name)
        succeeded = page.evaluate(RUN_ALL, notebook.name)
        assert succeeded, f"Run All stopped in {notebook.name}"
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('img.widget-image')).some((img) => img.src)",
            timeout=RUN_ALL_TIMEOUT_MS,
        )
        failed = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        assert failed.count() == 0, failed.all_inner_texts()

        slider = page.evaluate(FIRST_WIDGET_SLIDER)
        assert slider is not None, f"no widget with a slider in {notebook.name}"
        image = page.locator('img[data-test="image"]')
        before = image.get_attribute("src")
        drag_to_the_other_end(page, slider)
        page.wait_for_function(
            "(before) => document.querySelector('img[data-test=\"image\"]').src !== before", arg=before
        )
        wait_until_settled(page, image)
        image.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / f"{notebook.stem}.png")
        assert console_errors == []
    except Exception:
        page.screenshot(path=artifacts / f"{notebook.stem}-failed.png")
        raise
    finally:
        page.evaluate(SHUT_DOWN_KERNEL, notebook.name)
        page.close()
