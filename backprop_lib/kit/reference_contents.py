"""The files a reference view's JupyterLab serves: everything as usual, except ``backprop_lib/``, read-only.

JupyterLab asks the server whether a file is writable, and neither autosaves
nor saves one that is not; a save, rename or delete sent anyway is refused with
403. A permission bit alone would not do it: root may write any file.
"""

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web

READ_ONLY = "backprop_lib"
REFUSED = "the reference solutions are read-only in a reference view: your own exercise files are in your workspace"


class ReferenceContents(AsyncLargeFileManager):
    """The server's default contents manager, with ``backprop_lib/`` and everything in it read-only."""

    def is_writable(self, path):
        return not _read_only(path) and super().is_writable(path)

    async def save(self, model, path=""):
        _refuse(path)
        return await super().save(model, path)

    async def delete_file(self, path):
        _refuse(path)
        return await super().delete_file(path)

    async def rename_file(self, old_path, new_path):
        _refuse(old_path)
        _refuse(new_path)
        return await super().rename_file(old_path, new_path)


def _read_only(path):
    parts = path.strip("/").split("/")
    return parts[0] == READ_ONLY


def _refuse(path):
    if _read_only(path):
        raise web.HTTPError(403, REFUSED)
