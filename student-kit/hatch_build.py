"""The student's wheel takes its files from the repository around this folder: the library and the notebooks.

Every ``.py`` and ``.json`` file of ``backprop_lib/``, its exercise files and hint
ladder generated anew from ``solutions/`` (``backprop_lib.kit.stubgen``: stubs, whatever
the checkout's exercise files hold), and the course notebooks as
``backprop_lib/kit/notebooks/``, where the workspace finds them. Nothing else of the
repository: no ``autograder/``, no hidden tests, no ``solutions/``.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIPPED = (".py", ".json")


class StudentFiles(BuildHookInterface):
    def initialize(self, version, build_data):
        repository = Path(self.root).resolve().parent
        library = repository / "backprop_lib"
        if not library.is_dir():
            raise FileNotFoundError(f"{library} not found: build the student's wheel from a checkout")
        chosen = build_data["force_include"]
        for path in sorted(library.rglob("*")):  # never follows kit/notebooks, a link to notebooks/
            inside = path.relative_to(repository)
            hidden = any(part.startswith(".") or part == "__pycache__" for part in inside.parts)
            if path.is_file() and not path.is_symlink() and path.suffix in SHIPPED and not hidden:
                chosen[str(path)] = str(inside)
        for notebook in sorted((repository / "notebooks").glob("*.ipynb")):
            chosen[str(notebook)] = f"backprop_lib/kit/notebooks/{notebook.name}"
        self.generated = Path(tempfile.mkdtemp(prefix="backprop-kit-stubs-"))
        for path, text in generated_stubs(repository).items():
            inside = path.relative_to(repository)
            (self.generated / inside).parent.mkdir(parents=True, exist_ok=True)
            (self.generated / inside).write_text(text)
            chosen.pop(str(path), None)
            chosen[str(self.generated / inside)] = str(inside)

    def finalize(self, version, build_data, artifact_path):
        shutil.rmtree(self.generated, ignore_errors=True)


def generated_stubs(repository):
    """{path in the repository: text} of the exercise files and hint ladder, generated from ``solutions/``."""
    sys.path.insert(0, str(repository))
    try:
        from backprop_lib.kit.stubgen import expected_stubs

        return expected_stubs()
    finally:
        sys.path.remove(str(repository))
