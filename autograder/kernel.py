"""The kernel nbgrader runs a student's notebook in, confined, and an executor that survives it.

nbgrader runs every notebook in a kernel with no memory limit, the grader's whole
environment and home folder; it keeps every byte the notebook prints; and when
the kernel dies or stops answering, it throws the whole notebook away. The
course configuration (``autograder.course``) replaces nbgrader's ``Execute``
preprocessor with ``ConfinedExecute``:

- kernels start through ``autograder.confine`` (``ConfinedKernelManager``):
  CPU seconds (SIGKILL when spent), address space (a memory bomb gets a
  MemoryError or dies), file size, no core dumps; only locale and PATH pass from
  the grader's environment; HOME, IPYTHONDIR, MPLCONFIGDIR, TMPDIR and the
  Jupyter folders point into a fresh scratch folder deleted afterwards; one BLAS
  thread; solution mode (BACKPROP_KIT_SOLUTIONS) cannot pass; the kernel dies
  with the process that started it. The kernel talks to nbgrader over Unix
  sockets in its scratch folder (ZeroMQ ipc transport), so where the machine
  allows namespaces (as root) it also gets: no network, its own process
  namespace, every file system read-only but its scratch folder, the paths in
  ``protect`` and ``solutions/`` hidden, and no capabilities (so, although it
  runs as root, it cannot undo any of it);
- at most ``output_limit`` bytes of text are kept per cell;
- when the kernel dies, or a cell ignores the interrupt after its timeout, the
  notebook stops there: that cell and every later code cell get an error output
  (so their tests score 0), the cells before keep their scores, and the log gets
  one line starting with ``STOPPED`` that ``autograder.autograde`` reports.

The kernel still runs as the grader's user (see docs/autograder.md for what that
leaves open); the integrity step (``autograder.verify``) does not trust it.
"""

import os
import shutil
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer, List, Unicode

from autograder import confine
from backprop_lib import SOLUTIONS_DIR

GiB = 1 << 30
STOPPED = "STOPPED the notebook:"
PASSED_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "NBGRADER_EXECUTION")


def kernel_environment(scratch):
    """The complete environment of a confined kernel whose scratch folder is ``scratch``."""
    env = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    folders = {
        "HOME": "",
        "TMPDIR": "tmp",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
        "JUPYTER_CONFIG_DIR": "jupyter",
        "JUPYTER_DATA_DIR": "jupyter",
        "JUPYTER_RUNTIME_DIR": "jupyter",
    }
    for name, sub in folders.items():
        env[name] = str(Path(scratch, sub))
        Path(env[name]).mkdir(exist_ok=True)
    env["JPY_PARENT_PID"] = str(os.getpid())
    threads = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return {**env, **threads, "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


class ConfinedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start through ``autograder.confine`` with a scratch home."""

    cpu_seconds = Integer(120, help="CPU seconds one notebook's kernel may use in all.").tag(config=True)
    memory_bytes = Integer(3 * GiB, help="Address space of one kernel, in bytes.").tag(config=True)
    file_size_bytes = Integer(64 << 20, help="Largest file a kernel may write, in bytes.").tag(config=True)
    font_cache = Unicode("", help="Folder with a prebuilt matplotlib font list to copy into each kernel.").tag(
        config=True
    )
    protect = List(Unicode(), help="Files and folders hidden from the kernel (where namespaces work).").tag(config=True)

    scratch = None

    async def _async_pre_start_kernel(self, **kw):
        self.scratch = tempfile.mkdtemp(prefix="backprop-kernel-")
        self.connection_file = os.path.join(self.scratch, "connection.json")
        self.transport, self.ip = "ipc", os.path.join(self.scratch, "socket")
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        env = kernel_environment(self.scratch)
        if self.font_cache and os.path.isdir(self.font_cache):
            shutil.copytree(self.font_cache, env["MPLCONFIGDIR"], dirs_exist_ok=True)
        limits = {"cpu": self.cpu_seconds, "memory": self.memory_bytes, "file_size": self.file_size_bytes}
        spec = {"limits": limits, "env": env}
        if confine.namespaces_available():
            hidden = [path for path in [*self.protect, str(SOLUTIONS_DIR)] if os.path.exists(path)]
            spec |= {"hide": hidden, "no_network": True, "read_only": True, "writable": [self.scratch]}
            spec["drop_capabilities"] = True
        return confine.command(spec, super().format_kernel_cmd(extra_arguments))

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


class ConfinedExecute(Execute):
    """nbgrader's Execute with confined kernels, capped output, and a clean stop when the kernel fails."""

    output_limit = Integer(1 << 20, help="Bytes of stream output kept per cell; the rest is dropped.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", ConfinedKernelManager)
        super().__init__(*args, **kwargs)
        self._kept, self._stopped = {}, None

    def preprocess(self, nb, resources=None, km=None):
        self._kept, self._stopped = {}, None
        return super().preprocess(nb, resources, km)

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            kept = self._kept.get(cell_index, 0)
            text = msg["content"].get("text", "")
            if kept >= self.output_limit:
                return None
            if kept + len(text) > self.output_limit:
                note = f"\n[the grader dropped the rest of this output: more than {self.output_limit} bytes]\n"
                msg["content"]["text"] = text[: self.output_limit - kept] + note
            self._kept[cell_index] = kept + len(text)
        return super().output(outs, msg, display_id, cell_index)

    def preprocess_cell(self, cell, resources, index):
        if self._stopped:
            if cell.cell_type == "code":
                cell.outputs = [_error("NotRun", f"not run: the notebook stopped earlier ({self._stopped})")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except Exception as error:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            where = f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")
            self._stopped = f"{describe(error)}, in {where}"
            self.log.error("%s %s", STOPPED, self._stopped)
            cell.outputs = [*cell.get("outputs", []), _error(type(error).__name__, self._stopped)]
            return cell, resources


def describe(error):
    """Why a notebook could not go on, in words a TA and a student understand."""
    if isinstance(error, DeadKernelError):
        return "the kernel died (it exited, crashed, or ran out of its CPU or memory limit)"
    if isinstance(error, CellTimeoutError):
        return "the cell kept running past the time limit and ignored the interrupt"
    if "Invalid Signature" in str(error):
        return "the kernel sent a damaged message (it may have run out of memory)"
    return f"{type(error).__name__}: {error}"


def _error(name, message):
    return new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])
