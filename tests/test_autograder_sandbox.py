"""The integrity verification's sandbox: student code runs confined, answers are judged by the grader.

These tests run the real sandbox on libraries written for them; no nbgrader run
is needed, only a built course (for its copy of the library).
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from autograder import confine, samples, verify
from autograder.course import build
from autograder.kernel import ConfinedKernelManager
from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR
from backprop_lib.kit.exercises import EXERCISES

ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
            patch.setenv(name, str(home / name.lower()))
        yield build(tmp_path_factory.mktemp("course") / "course")


@pytest.fixture(scope="module")
def secret():
    return verify.SecretCases.draw()


@pytest.fixture(scope="module")
def isolation():
    return verify.Isolation.detect()


def submit(course, student, replacements=(), extra=""):
    """The student's library as the intake leaves it: the reference, some functions replaced."""
    library = course.folder("intake", student) / "backprop_lib"
    library.mkdir(parents=True, exist_ok=True)
    plant, mistake = samples.catalog().plant, samples.catalog().Mistake
    for module in EXERCISE_MODULES:
        source = (SOLUTIONS_DIR / f"{module}.py").read_text()
        for function, code in replacements:
            if f"def {function}(" in source:
                source = plant(source, mistake("test", module, function, textwrap.dedent(code).strip() + "\n", None))
        (library / f"{module}.py").write_text(source + extra)
    return library


def results(course, student, secret, isolation):
    return {r.exercise: r for r in verify.verify(course, student, secret, isolation).results}


def test_the_reference_passes_every_exercise_on_secret_cases(course, secret, isolation):
    submit(course, "reference")
    got = results(course, "reference", secret, isolation)
    assert list(got) == list(EXERCISES)
    assert all(r.passed for r in got.values()), [r.report() for r in got.values() if not r.passed]


def test_untouched_stubs_are_not_implemented(course, secret, isolation):
    course.folder("intake", "untouched").mkdir(parents=True, exist_ok=True)
    got = results(course, "untouched", secret, isolation)
    assert {r.status for r in got.values()} == {"not implemented"}
    assert "relu_backward is not implemented yet" in got["relu_backward"].summary


def test_a_wrong_answer_fails_even_with_numpy_and_the_checker_patched(course, secret, isolation):
    cheat = textwrap.dedent(
        """
        import numpy as _np
        import backprop_lib.kit.checking as _checking
        _np.allclose = _np.isclose = _np.array_equal = lambda *a, **k: True
        _checking.check_exercise = lambda *a, **k: None
        """
    )
    submit(course, "patcher", [("relu_backward", "def relu_backward(dout, cache):\n    return (dout,)")], cheat)
    got = results(course, "patcher", secret, isolation)
    assert got["relu_backward"].status == "failed"
    assert "passed on unchanged" in (got["relu_backward"].hint or "")


def test_modules_the_student_added_are_used_and_the_kit_s_own_files_are_not(course, secret, isolation):
    helper = """
        def relu_backward(dout, cache):
            from backprop_lib.masks import positive
            return (dout * positive(cache),)
    """
    library = submit(course, "helper", [("relu_backward", helper)])
    (library / "masks.py").write_text("def positive(x):\n    return x > 0\n")
    (library / "checking.py").write_text("raise SystemExit('a student copy of the kit is never used')\n")
    got = results(course, "helper", secret, isolation)
    assert all(r.passed for r in got.values()), [r.report() for r in got.values() if not r.passed]


def test_an_exercise_that_hangs_or_crashes_fails_alone(course, secret, isolation):
    submit(
        course,
        "crasher",
        [
            ("negate_backward", "def negate_backward(dout, cache):\n    while True:\n        pass"),
            ("exp_backward", "def exp_backward(dout, cache):\n    import os\n    os._exit(0)"),
            ("log_backward", "def log_backward(dout, cache):\n    import ctypes\n    ctypes.string_at(0)"),
            ("power_backward", "def power_backward(dout, cache):\n    import numpy\n    return (numpy.ones(1 << 34),)"),
        ],
    )
    got = results(course, "crasher", secret, isolation)
    assert "did not finish within 5 s" in got["negate_backward"].summary
    assert "exit code 0" in got["exp_backward"].summary
    assert "killed by signal 11" in got["log_backward"].summary
    assert "MemoryError" in got["power_backward"].summary
    broken = {"negate_backward", "exp_backward", "log_backward", "power_backward"}
    broken.add("engine_course_examples")  # the course's sigmoid neuron runs the student's exp gate
    assert all(r.passed for name, r in got.items() if name not in broken)


@pytest.mark.skipif(not (ROOT and confine.namespaces_available()), reason="hiding files and switching user need root")
def test_student_code_runs_as_nobody_and_cannot_reach_anything_else(course, secret, isolation):
    assert isolation == verify.Isolation("nobody", True), "this machine allows full isolation"
    marker = Path(tempfile.gettempdir()) / f"backprop-sandbox-leftover-{os.getpid()}"
    marker.unlink(missing_ok=True)
    targets = [SOLUTIONS_DIR / "gates.py", course.config_file, course.source / "01_chain_rule.ipynb", "/root"]
    probe = f"""
        def add_backward(dout, cache):
            import os
            read = []
            for path in {[str(t) for t in targets]!r}:
                try:
                    open(path).read(1) if os.path.isfile(path) else os.listdir(path)
                    read.append(path)
                except OSError:
                    pass
            try:
                open({str(course.root / "planted.txt")!r}, "w").write("x")
                read.append("wrote into the course")
            except OSError:
                pass
            try:
                os.kill({os.getpid()}, 15)
                read.append("signalled the grader")
            except OSError:
                pass
            if os.fork() == 0:  # a child meant to outlive the sandbox: it stamps the marker while it lives
                import time
                for _ in range(100):
                    open({str(marker)!r}, "w").write("still alive")
                    time.sleep(0.1)
                os._exit(0)
            raise RuntimeError(f"uid={{os.getuid()}} read={{read}}")
    """
    submit(course, "snoop", [("add_backward", probe)])
    summary = results(course, "snoop", secret, isolation)["add_backward"].summary
    ended = time.time()
    assert "uid=65534 read=[]" in summary
    assert not (course.root / "planted.txt").exists()
    time.sleep(1)
    assert marker.exists(), "the child ran while the sandbox lived"
    assert marker.stat().st_mtime <= ended, "a process started by student code outlived the sandbox"


@pytest.mark.skipif(not (ROOT and confine.namespaces_available()), reason="network namespaces need root")
def test_the_launcher_cuts_the_network_and_hides_paths(tmp_path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("the answer")
    code = textwrap.dedent(
        f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", 22), timeout=1)
        except OSError as error:
            print("network:", error.errno)
        print("file:", repr(open({str(secret_file)!r}).read()))
        """
    )
    spec = {"hide": [str(secret_file)], "no_network": True, "env": {}}
    done = subprocess.run(confine.command(spec, [sys.executable, "-c", code]), capture_output=True, text=True)
    assert "network: 101" in done.stdout, done.stderr  # ENETUNREACH: no interface is up
    assert "file: ''" in done.stdout


@pytest.mark.skipif(not (ROOT and confine.namespaces_available()), reason="kernel namespaces need root")
def test_a_notebook_kernel_runs_confined(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_KIT_SOLUTIONS", "1")
    secret_file = tmp_path / "gradebook.db"
    secret_file.write_text("scores")
    probe = textwrap.dedent(
        f"""
        import json, os, resource, socket
        found = {{"pid": os.getpid(), "solution mode": "BACKPROP_KIT_SOLUTIONS" in os.environ}}
        found["capabilities"] = open("/proc/self/status").read().split("CapEff:")[1].split()[0]
        found["memory"] = resource.getrlimit(resource.RLIMIT_AS)[0]
        for name, path in (("solutions", {str(SOLUTIONS_DIR / "gates.py")!r}), ("protected", {str(secret_file)!r})):
            try:
                found[name] = open(path).read()
            except OSError as error:
                found[name] = error.strerror
        for name, path in (("cwd", "written.txt"), ("home", os.path.join(os.environ["HOME"], "written.txt"))):
            try:
                open(path, "w").write("x")
                found[name] = "written"
            except OSError as error:
                found[name] = error.strerror
        try:
            socket.create_connection(("127.0.0.1", 22), timeout=1)
        except OSError as error:
            found["network"] = error.strerror
        print(json.dumps(found))
        """
    )
    notebook = new_notebook(cells=[new_code_cell(probe)])
    config = Config({"ConfinedKernelManager": {"protect": [str(secret_file)]}})
    client = NotebookClient(
        notebook, kernel_name="python3", kernel_manager_class=ConfinedKernelManager, config=config,
        resources={"metadata": {"path": str(tmp_path)}},
    )  # fmt: skip
    client.execute()
    found = json.loads(notebook.cells[0].outputs[0]["text"])
    assert found == {
        "pid": 1,
        "solution mode": False,
        "capabilities": "0000000000000000",
        "memory": ConfinedKernelManager.memory_bytes.default_value,
        "solutions": "Permission denied",
        "protected": "",
        "cwd": "Read-only file system",
        "home": "written",
        "network": "Network is unreachable",
    }


def test_limits_and_environment_reach_the_confined_process():
    code = "import os, resource; print(resource.getrlimit(resource.RLIMIT_AS)[0], sorted(os.environ))"
    spec = {"limits": {"memory": 1 << 30, "cpu": 5}, "env": {"ONLY": "this", "LC_ALL": "C.UTF-8"}}
    done = subprocess.run(confine.command(spec, [sys.executable, "-c", code]), capture_output=True, text=True)
    assert done.stdout.split(maxsplit=1) == [str(1 << 30), "['LC_ALL', 'ONLY']\n"]


def test_answers_from_the_sandbox_are_validated(tmp_path):
    exercise, cases = EXERCISES["relu_backward"], EXERCISES["relu_backward"].cases(7)
    np.savez(tmp_path / "relu_backward.npz", **{"0/grad0": np.array([object()], dtype=object)})
    (tmp_path / "relu_backward.json").write_text(json.dumps({"cases": len(cases), "error": None}))
    assert "unreadable" in verify.judge_outputs(exercise, cases, tmp_path).summary
    np.savez_compressed(tmp_path / "relu_backward.npz", **{"0/out": np.zeros(3)})
    assert "compressed" in verify.judge_outputs(exercise, cases, tmp_path).summary
    np.savez(tmp_path / "relu_backward.npz", **{"0/out": np.zeros(3, dtype=complex)})
    assert "unexpected array" in verify.judge_outputs(exercise, cases, tmp_path).summary
    np.savez(tmp_path / "relu_backward.npz")
    claim = {"status": "passed", "summary": "trust me", "details": ["x" * 10_000], "hint": None}
    (tmp_path / "relu_backward.json").write_text(json.dumps({"cases": 0, "error": claim}))
    result = verify.judge_outputs(exercise, cases, tmp_path)
    assert result.status == "failed" and len(result.details[0]) <= 300
    (tmp_path / "relu_backward.json").write_text(json.dumps({"cases": len(cases), "error": None}))
    assert not verify.judge_outputs(exercise, cases, tmp_path).passed  # claims every case, gives no arrays
