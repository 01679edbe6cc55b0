"""The student's wheel takes its files from the repository around this folder: the library and the notebooks.

Every ``.py`` and ``.json`` file of ``backprop_lib/`` (its exercise files are the
generated stubs), and the course notebooks as ``backprop_lib/kit/notebooks/``, where
the workspace finds them. Nothing else of the repository: no ``autograder/``, no
hidden tests, no ``solutions/``.
"""

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
