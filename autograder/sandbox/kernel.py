"""The kernel nbgrader runs a student's notebook in, boxed, and an executor that survives it.

The course configuration replaces nbgrader's ``Execute`` preprocessor with
``ConfinedExecute``:

- every kernel starts in a box (``autograder.sandbox.box``: what it holds and may use):
  forked from the submission's kernel server when one runs (``kernels_for``,
  ``autograder.sandbox.warm``), else cold, in a box of its own. Its scratch folder
  is the only writable place of its own (HOME, the connection file, the ZeroMQ ipc
  sockets, which the grader reaches at the same path); interrupts travel as
  messages (a signal would stop at the box's edge);
- at most ``output_limit`` bytes of output are kept per cell, whatever its kind;
  what exceeds it is replaced by a note;
- when the kernel dies, or a cell ignores the interrupt after its timeout, the
  notebook stops there: that cell and every later code cell get an error output,
  the cells before keep their outputs, and the log gets one line starting with
  ``STOPPED`` that ``autograder.grading.autograde`` reports.

The kernel can fake its own test results; nothing it does decides a grade (the
integrity verification, ``autograder.sandbox.verify``, does not trust it).
"""

import contextlib
import os
import shutil
import sys
import tempfile
import uuid

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from autograder.sandbox import box, seccomp, warm

STOPPED = "STOPPED the notebook:"
WARM_FAILED = "NO WARM KERNEL:"
RICH_OUTPUTS = ("display_data", "execute_result", "update_display_data")


class ConfinedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start in a box (``autograder.sandbox.box``) with a scratch home."""

    cpu_seconds = Integer(box.KERNEL_LIMITS.cpu_seconds, help="CPU seconds one notebook's kernel may use in all.").tag(
        config=True
    )
    memory_bytes = Integer(box.KERNEL_LIMITS.memory_bytes, help="Address space of one kernel, in bytes.").tag(
        config=True
    )
    file_size_bytes = Integer(box.KERNEL_LIMITS.file_bytes, help="Largest file a kernel may write, in bytes.").tag(
        config=True
    )
    processes = Integer(box.KERNEL_LIMITS.processes, help="Processes and threads one kernel's box may run.").tag(
        config=True
    )
    font_cache = Unicode("", help="Folder with a prebuilt matplotlib font list to copy into each kernel.").tag(
        config=True
    )
    library = Unicode("", help="The course's backprop_lib: the kit's files every kernel imports.").tag(config=True)
    course_root = Unicode(
        "",
        help="The course folder: a kernel working in <course>/autograded/<student>/<assignment> sees the student's "
        "own files, <course>/intake/<student>/<assignment>, there (never the autograded notebooks).",
    ).tag(config=True)
    warm = Bool(
        True,
        help="Fork each kernel from the submission's kernel server (autograder.sandbox.warm) instead of starting "
        "it cold in a box of its own (a root grader only).",
    ).tag(config=True)

    scratch = None
    folder = None
    server = None
    kernel_env = None
    filter_fd = None

    def limits(self):
        """The limits of one notebook's kernel, as the configuration sets them."""
        return box.Limits(
            self.cpu_seconds, self.memory_bytes, self.file_size_bytes, box.KERNEL_LIMITS.open_files, self.processes
        )

    def shown(self, folder):
        """The folder whose files a kernel working in ``folder`` sees there: the student's own (the intake copy)."""
        if self.course_root:
            autograded = os.path.join(self.course_root, "autograded")
            relative = os.path.relpath(folder, autograded)
            if not relative.startswith(os.pardir):
                return os.path.join(self.course_root, "intake", relative)
        return folder

    async def _async_pre_start_kernel(self, **kw):
        self.folder = os.path.abspath(kw.get("cwd") or os.getcwd())
        self.server = self._warm_server()
        self.kernel_id = kw.pop("kernel_id", self.kernel_id or str(uuid.uuid4()))  # as jupyter_client sets it
        if self.server:
            self.provisioner = warm.WarmProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        elif isinstance(self.provisioner, warm.WarmProvisioner):  # a restart, cold: jupyter_client's own again
            self.provisioner = None
        self.scratch = self.server.new_kernel_folder() if self.server else tempfile.mkdtemp(prefix="backprop-kernel-")
        self.connection_file = os.path.join(self.scratch, "connection.json")
        self.transport, self.ip = "ipc", os.path.join(self.scratch, "socket")
        self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    def _warm_server(self):
        """The submission's kernel server to fork this kernel from, or None (the log says why, if there is one)."""
        server = warm.current
        if not self.warm or server is None:
            return None
        if os.path.realpath(self.folder) != os.path.realpath(server.folder):
            server.why_not = f"the submission's kernel server serves {server.folder}, not {self.folder}"
        elif not _this_ipykernel(self.kernel_spec.argv):
            server.why_not = f"the kernel is not this interpreter's ipykernel: {self.kernel_spec.argv}"
        elif server.ready():
            return server
        self.log.warning("%s %s; this notebook's kernel starts cold, in a box of its own", WARM_FAILED, server.why_not)
        return None

    def format_kernel_cmd(self, extra_arguments=None):
        env = box.environment(self.scratch)
        if self.font_cache and os.path.isdir(self.font_cache):
            shutil.copytree(self.font_cache, env["MPLCONFIGDIR"], dirs_exist_ok=True)
        if self.server:  # the arguments after `python -m ipykernel_launcher`, for WarmProvisioner
            box.give_to_box(self.scratch, self.server.kernel_uid)
            self.kernel_env = env
            return super().format_kernel_cmd(extra_arguments)[3:]
        box.give_to_box(self.scratch)
        shown = self.shown(self.folder)
        kernel_box = box.notebook_box(self.scratch, self.folder, shown, self.library, env, self.limits())
        self.filter_fd = seccomp.descriptor()
        return box.argv(kernel_box, super().format_kernel_cmd(extra_arguments), self.filter_fd)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self.server:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        try:  # bubblewrap with its filter and an environment of its own, nothing of the grader's
            kw.update(env=dict(box.LAUNCH_ENV), pass_fds=(self.filter_fd,))
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            os.close(self.filter_fd)
            self.filter_fd = None

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


class ConfinedExecute(Execute):
    """nbgrader's Execute with confined kernels, capped output, and a clean stop when the kernel fails."""

    output_limit = Integer(1 << 20, help="Bytes of output kept per cell, every kind; the rest is dropped.").tag(
        config=True
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", ConfinedKernelManager)
        super().__init__(*args, **kwargs)
        self._kept, self._noted, self._stopped = {}, set(), None

    def preprocess(self, nb, resources=None, km=None):
        self._kept, self._noted, self._stopped = {}, set(), None
        return super().preprocess(nb, resources, km)

    def output(self, outs, msg, display_id, cell_index):
        """Keep the cell's output up to ``output_limit``; past it, one note per channel, and every error."""
        kind, content = msg["msg_type"], msg["content"]
        if kind not in RICH_OUTPUTS and kind not in ("stream", "error"):
            return super().output(outs, msg, display_id, cell_index)
        text = content.get("text", "") if kind == "stream" else ""
        kept = self._kept.get(cell_index, 0)
        self._kept[cell_index] = kept + (len(text) if kind == "stream" else _size(content))
        if self._kept[cell_index] > self.output_limit:
            channel = content.get("name") if kind == "stream" else "error" if kind == "error" else "stdout"
            if (cell_index, channel) in self._noted:
                return None
            if channel != "error":
                self._noted.add((cell_index, channel))
            note = f"[the grader dropped output here: this cell's output passed {self.output_limit} bytes]"
            if kind == "stream":
                content["text"] = f"{text[: max(0, self.output_limit - kept)]}\n{note}\n"
            else:
                _replace_with_note(kind, content, note)
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


def _this_ipykernel(argv):
    """Whether a kernel spec's command is ipykernel's launcher on this interpreter (jupyter_client runs
    ``python`` as ``sys.executable``)."""
    interpreter = argv[0] in ("python", f"python{sys.version_info[0]}", sys.executable)
    return interpreter and argv[1:3] == ["-m", "ipykernel_launcher"]


def describe(error):
    """Why a notebook could not go on, in words a TA and a student understand."""
    if isinstance(error, DeadKernelError):
        return "the kernel died (it exited, crashed, or ran out of its CPU or memory limit)"
    if isinstance(error, CellTimeoutError):
        return "the cell kept running past the time limit and ignored the interrupt"
    if "Invalid Signature" in str(error):
        return "the kernel sent a damaged message (it may have run out of memory)"
    return f"{type(error).__name__}: {error}"


def _size(content):
    """Characters of an output message's payload (every MIME type, metadata, traceback)."""
    parts = [*content.get("data", {}).values(), content.get("metadata", {}), content.get("evalue", "")]
    parts += content.get("traceback", [])
    return sum(len(part) if isinstance(part, str) else len(str(part)) for part in parts)


def _replace_with_note(kind, content, note):
    if kind == "error":
        content["evalue"], content["traceback"] = note, [f"{content.get('ename', 'Error')}: {note}"]
    else:
        content["data"], content["metadata"] = {"text/plain": note}, {}


def _error(name, message):
    return new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])


@contextlib.contextmanager
def kernels_for(course, student, wanted=True):
    """A kernel server for ``student``'s notebooks while the block runs (``warm.current`` names it meanwhile), if
    ``wanted``, the course's config asks for warm kernels (``ConfinedKernelManager.warm``) and this grader can keep
    a server apart from its kernels (``box.warm_possible``); else None, and every kernel starts cold."""
    manager = ConfinedKernelManager(config=course.config)
    if not (wanted and manager.warm and box.warm_possible()):
        yield None
        return
    folder = course.folder("autograded", student)
    warm.current = warm.start(manager, folder, manager.shown(str(folder)))
    try:
        yield warm.current
    finally:
        warm.current.stop()
        warm.current = None
