"""The integrity verification's sandbox: student code runs confined, answers are judged by the grader.

These tests run the real sandbox on libraries written for them; no nbgrader run
is needed, only a built course (for its copy of the library).
"""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from scratch_home import scratch_home

from autograder.course import samples
from autograder.course.build import HIDDEN_TESTS_DIR, build
from autograder.sandbox import box, kernel, verify
from autograder.sandbox.kernel import ConfinedKernelManager
from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR
from backprop_lib.kit.exercises import EXERCISES

ROOT = os.geteuid() == 0
REPO = Path(__file__).resolve().parent.parent  # the repository


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with scratch_home(home):
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


BOX, SERVER = "a box of its own", "the kernel server's box"


@pytest.fixture(params=[BOX, SERVER])
def results(request, course, secret, isolation, capfd):
    """Verify a student as grading does: forked by the submission's kernel server (after the notebooks), or in a
    box of its own (warm kernels off, or the server gone); {exercise: CheckResult}."""

    def verified(student):
        if request.param == BOX:
            return {r.exercise: r for r in verify.verify(course, student, secret, isolation).results}
        with kernel.kernels_for(course, student) as server:
            got = verify.verify_forked(secret, isolation, server)
        assert got is not None, capfd.readouterr().out
        assert "forkserver: verification" in capfd.readouterr().err
        return {r.exercise: r for r in got.results}

    verified.where = request.param
    return verified


def test_the_reference_passes_every_exercise_on_secret_cases(course, results):
    submit(course, "reference")
    got = results("reference")
    assert list(got) == list(EXERCISES)
    assert all(r.passed for r in got.values()), [r.report() for r in got.values() if not r.passed]


def test_untouched_stubs_are_not_implemented(course, results):
    course.folder("intake", "untouched").mkdir(parents=True, exist_ok=True)
    got = results("untouched")
    assert {r.status for r in got.values()} == {"not implemented"}
    assert "relu_backward is not implemented yet" in got["relu_backward"].summary


def test_a_wrong_answer_fails_even_with_numpy_and_the_checker_patched(course, results):
    cheat = textwrap.dedent(
        """
        import numpy as _np
        import backprop_lib.kit.checking as _checking
        _np.allclose = _np.isclose = _np.array_equal = lambda *a, **k: True
        _checking.check_exercise = lambda *a, **k: None
        """
    )
    submit(course, "patcher", [("relu_backward", "def relu_backward(dout, cache):\n    return (dout,)")], cheat)
    got = results("patcher")
    assert got["relu_backward"].status == "failed"
    assert "passed on unchanged" in (got["relu_backward"].hint or "")


def test_only_the_exercise_files_come_from_the_student(course, results):
    helper = """
        def relu_backward(dout, cache):
            from backprop_lib.masks import positive
            return (dout * positive(cache),)
    """
    library = submit(course, "helper", [("relu_backward", helper)])
    (library / "masks.py").write_text("def positive(x):\n    return x > 0\n")
    (library / "kit" / "checking").mkdir(parents=True, exist_ok=True)
    shadow = "raise SystemExit('a student copy of the kit is never used')\n"
    (library / "kit" / "checking" / "__init__.py").write_text(shadow)
    (library / "kit" / "exercises").mkdir(parents=True, exist_ok=True)
    (library / "kit" / "exercises" / "__init__.py").write_text(shadow)
    got = results("helper")
    assert "No module named 'backprop_lib.masks'" in got["relu_backward"].summary
    using_relu = {
        "relu_backward",
        "residual_backward",
        "two_layer_net_backward",
        "network_gradient_check",
        "spiral_training",
    }
    assert all(r.passed for name, r in got.items() if name not in using_relu)


def test_an_exercise_that_hangs_or_crashes_fails_alone(course, results):
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
    got = results("crasher")
    assert "did not finish within 5 s" in got["negate_backward"].summary
    assert "exit code 0" in got["exp_backward"].summary
    assert "killed by signal 11" in got["log_backward"].summary
    assert "MemoryError" in got["power_backward"].summary
    broken = {"negate_backward", "exp_backward", "log_backward", "power_backward"}
    broken.add("engine_course_examples")  # the course's sigmoid neuron runs the student's exp gate
    assert all(r.passed for name, r in got.items() if name not in broken)


def test_a_verification_cannot_stop_the_kernel_server_that_forked_it(course, secret, isolation):
    """The verifier runs as a uid of its own, without capability: it can neither signal nor trace its server."""
    kill = "def relu_backward(dout, cache):\n    import os, signal\n    os.kill(os.getppid(), signal.SIGSTOP)"
    submit(course, "server-stopper", [("relu_backward", kill)])
    with kernel.kernels_for(course, "server-stopper") as server:
        verification = verify.verify_forked(secret, isolation, server)
        assert verification is not None and server.ready(5)
    relu = next(r for r in verification.results if r.exercise == "relu_backward")
    assert not relu.passed and "PermissionError" in relu.summary


def test_a_verification_whose_server_ends_is_done_again_in_a_box(course, secret, isolation, capfd):
    """A server that ends during the verification (killed by the machine, say) drops the forked results (the round
    it ended in may have failed for it): grading verifies again in a box of its own."""
    slow = "def relu_backward(dout, cache):\n    import time\n    time.sleep(3)\n    raise NotImplementedError"
    submit(course, "server-lost", [("relu_backward", slow)])
    with kernel.kernels_for(course, "server-lost") as server:
        threading.Timer(1.0, server.process.kill).start()
        assert verify.verify_forked(secret, isolation, server) is None
    assert "verification: not in the kernel server's box (the submission's kernel server has ended" in (
        capfd.readouterr().out
    )
    got = verify.verify(course, "server-lost", secret, isolation).results
    assert [r.exercise for r in got] == list(EXERCISES)
    using_relu = {"relu_backward", "residual_backward", "two_layer_net_backward"}
    using_relu |= {"network_gradient_check", "spiral_training"}
    assert {r.exercise for r in got if not r.passed} == using_relu


def test_answers_are_read_from_the_folder_the_grader_made_even_if_the_box_swaps_it_for_a_link(course, results):
    """A box that can write its answer folder's parent (a non-root grader's kernel server) may rename the folder
    and leave a link to forged answers in its place: the grader reads through what it opened before."""
    swap = """
        def add_backward(dout, cache):
            import os
            from backprop_lib.broadcast import sum_to_shape
            here = os.getcwd()
            forged = os.path.join(os.path.dirname(here), "forged")
            try:
                os.mkdir(forged)
                for name in ("add_backward", "relu_backward", "linear_backward"):
                    with open(os.path.join(forged, name + ".json"), "w") as file:
                        file.write("forged")
                os.rename(here, here + "-moved")
                os.symlink(forged, here)
            except OSError:
                pass  # a root grader's box cannot write there, nor a box of its own
            a_shape, b_shape = cache
            return sum_to_shape(dout, a_shape), sum_to_shape(dout, b_shape)
    """
    submit(course, "swapper", [("add_backward", swap)])
    got = results("swapper")
    assert all(r.passed for r in got.values()), [r.report() for r in got.values() if not r.passed]


def test_student_code_has_the_same_address_space_in_either_box(course, results):
    """2 GiB of address space in either box: a fresh process has about 0.1 GB of it mapped, the kernel server's
    child 0.15 GB (what its preloaded libraries map)."""
    large = """
        def add_backward(dout, cache):
            import numpy
            from backprop_lib.broadcast import sum_to_shape
            room = numpy.empty(1_800_000_000 // 8)  # mapped, never touched
            del room
            a_shape, b_shape = cache
            return sum_to_shape(dout, a_shape), sum_to_shape(dout, b_shape)
    """
    submit(course, "large", [("add_backward", large)])
    assert results("large")["add_backward"].passed


def leftover(marker, seconds=2.0):
    """Processes whose command line holds ``marker`` still there after ``seconds`` (a killed one takes a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(entry.name)
            except OSError:
                pass
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_student_code_runs_in_a_box_of_its_own_and_reaches_nothing_else(course, results):
    targets = [SOLUTIONS_DIR / "gates.py", REPO / ".git", HIDDEN_TESTS_DIR, course.config_file, course.root / "intake"]
    marker = f"{31 + os.getpid() % 1000}.417"
    probe = f"""
        def add_backward(dout, cache):
            import os, subprocess
            read = []
            for path in {[str(t) for t in targets]!r}:
                try:
                    open(path).read(1) if os.path.isfile(path) else os.listdir(path)
                    read.append(path)
                except OSError:
                    pass
            try:
                import autograder
                read.append("imported autograder")
            except ImportError:
                pass
            try:
                os.kill({os.getpid()}, 15)
                read.append("signalled the grader")
            except OSError:
                pass
            subprocess.Popen(["sleep", "{marker}"], start_new_session=True)  # meant to outlive the box
            others = sorted(p for p in os.listdir("/proc") if p.isdigit())
            caps = open("/proc/self/status").read().split("CapEff:")[1].split()[0]
            raise RuntimeError(f"uid={{os.getuid()}} caps={{caps}} read={{read}} processes={{len(others)}}")
    """
    submit(course, "snoop", [("add_backward", probe)])
    summary = results("snoop")["add_backward"].summary
    uid = (box.uid(box.COLD) if results.where == BOX else box.uid(box.VERIFIER)) if ROOT else os.getuid()
    processes = 3 if results.where == BOX else 4  # init, python, sleep; and the kernel server in its box
    assert f"uid={uid} caps=0000000000000000 read=[] processes={processes}" in summary
    assert not leftover(marker), "a process started by student code outlived the box"


def test_a_box_has_no_network_no_host_files_and_its_limits(tmp_path):
    (tmp_path / "secret.txt").write_text("the answer")
    code = textwrap.dedent(
        f"""
        import os, resource, socket
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=1)
        except OSError as error:
            print("network:", error.strerror)
        print("file:", os.path.exists({str(tmp_path / "secret.txt")!r}))
        print("limits:", [resource.getrlimit(r)[0] for r in (resource.RLIMIT_AS, resource.RLIMIT_NPROC)])
        print("env:", sorted(os.environ))
        """
    )
    limits = box.Limits(memory_bytes=1 << 30, processes=16)
    writable = tmp_path / "box"
    writable.mkdir()
    box.give_to_box(writable)
    process = box.start(box.Box(str(writable), env={"ONLY": "this"}, limits=limits), [sys.executable, "-c", code],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    out, err = process.communicate()
    assert out.splitlines() == [
        "network: Network is unreachable",
        "file: False",
        f"limits: {[1 << 30, 16]}",
        "env: ['LC_CTYPE', 'ONLY', 'PWD']",  # PWD from bwrap's --chdir, LC_CTYPE from Python's C-locale coercion
    ], err


def test_a_fork_loop_stays_inside_its_box(tmp_path):
    loop = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    boxes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        box.give_to_box(tmp_path / name)
        limits = box.Limits(cpu_seconds=2, processes=40)
        boxes.append(box.start(box.Box(str(tmp_path / name), limits=limits), [sys.executable, "-c", loop]))
    time.sleep(1)
    assert subprocess.run([sys.executable, "-c", "import os; os.fork()"]).returncode == 0  # the grader can still fork
    for process in boxes:
        process.kill()
        process.wait()
    time.sleep(0.5)
    assert not leftover("while True:\n    try:\n        os.fork()")


@pytest.mark.skipif(not ROOT, reason="a box has a uid of its own only when the grader is root")
def test_a_grading_environment_closed_to_other_users_is_refused_with_the_fix(tmp_path):
    venv = tmp_path / "closed-venv"
    subprocess.run(["bash", "-c", f"umask 077 && {sys.executable} -m venv --without-pip {venv}"], check=True)
    code = f"import sys; sys.path.insert(0, {str(REPO)!r}); from autograder.sandbox import box; box.check_available()"
    done = subprocess.run([venv / "bin" / "python", "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    message = done.stderr.strip().splitlines()[-1]
    assert "every box runs under a uid of its own, which cannot read" in message
    assert f"chmod -R o+rX {venv}" in message


def test_a_notebook_kernel_runs_in_a_box(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_KIT_SOLUTIONS", "1")
    probe = textwrap.dedent(
        f"""
        import json, os, resource, socket
        found = {{"pid": os.getpid(), "solution mode": "BACKPROP_KIT_SOLUTIONS" in os.environ}}
        found["processes"] = sorted(p for p in os.listdir("/proc") if p.isdigit())
        found["capabilities"] = open("/proc/self/status").read().split("CapEff:")[1].split()[0]
        found["memory"] = resource.getrlimit(resource.RLIMIT_AS)[0]
        for name, path in (("solutions", {str(SOLUTIONS_DIR / "gates.py")!r}), ("git", {str(REPO / ".git")!r})):
            found[name] = os.path.exists(path)
        try:
            import autograder
            found["autograder"] = autograder.__file__
        except ImportError as error:
            found["autograder"] = str(error)
        for name, path in (("cwd", "written.txt"), ("home", os.path.join(os.environ["HOME"], "written.txt"))):
            try:
                open(path, "w").write("x")
                found[name] = "written"
            except OSError as error:
                found[name] = error.strerror
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=1)
        except OSError as error:
            found["network"] = error.strerror
        print(json.dumps(found))
        """
    )
    notebook = new_notebook(cells=[new_code_cell(probe)])
    client = NotebookClient(
        notebook, kernel_name="python3", kernel_manager_class=ConfinedKernelManager,
        resources={"metadata": {"path": str(tmp_path)}},
    )  # fmt: skip
    client.execute()
    found = json.loads(notebook.cells[0].outputs[0]["text"])
    assert found.pop("cwd") in ("Read-only file system", "Permission denied")  # the box's uid or a read-only bind
    assert found == {
        "pid": 2,
        "solution mode": False,
        "processes": ["1", "2"],
        "capabilities": "0000000000000000",
        "memory": ConfinedKernelManager.memory_bytes.default_value,
        "solutions": False,
        "git": False,
        "autograder": "No module named 'autograder'",
        "home": "written",
        "network": "Network is unreachable",
    }


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


def test_a_malformed_answer_is_the_student_s_failure_and_never_blocks(tmp_path):
    exercise, cases = EXERCISES["relu_backward"], EXERCISES["relu_backward"].cases(7)
    report = tmp_path / "relu_backward.json"
    report.write_text(json.dumps({"cases": len(cases), "error": None}))
    answer = tmp_path / "relu_backward.npz"
    answer.write_bytes(b"PK\x03\x04 not a zip at all")
    assert "unreadable" in verify.judge_outputs(exercise, cases, tmp_path).summary
    answer.unlink()
    os.mkfifo(answer)  # opened without O_NONBLOCK, this would wait forever for a writer
    assert "not a regular file" in verify.judge_outputs(exercise, cases, tmp_path).summary
    answer.unlink()
    answer.symlink_to(tmp_path / "elsewhere.npz")
    np.savez(tmp_path / "elsewhere.npz", **{"0/grad0": np.zeros(3)})
    assert "unreadable" in verify.judge_outputs(exercise, cases, tmp_path).summary
    report.unlink()
    os.mkfifo(report)
    assert "not a regular file" in verify.judge_outputs(exercise, cases, tmp_path).summary


def test_a_failed_secret_case_does_not_show_its_expected_values(course, secret, results):
    wrong = "def relu_backward(dout, cache):\n    return (dout * (cache > 0) * (1.5 if cache.size == 20 else 1.0),)"
    submit(course, "secretive", [("relu_backward", wrong)])  # right on the course's worked case, wrong on (4, 5)
    result = results("secretive")["relu_backward"]
    assert secret.public["relu_backward"] and 0 not in secret.public["relu_backward"]  # the first case is random
    assert (result.status, result.summary) == ("failed", "dx is wrong")
    assert result.details == [
        "on a secret case (random inputs: x (4, 5), random upstream): its expected values are not shown"
    ]
