"""A hostile class, graded in one batch with honest controls beside it (issues 12 and 19).

The course is notebooks 01 and 02; the hostile code is in notebook 02, graded
after 01, and in the library. Every hostile sample is a small change to an
honest base (the reference or the untouched stubs), so "at most its honest
score" is that base's score in the same batch. The attacks: a shadowing kit,
a kernel hijack, forged answers, a fork loop, FIFOs, stolen solutions, faked
tracebacks, huge outputs, odd names (issue 12); stopping and replacing the
kernel server, echoing test cells and reading other autograded notebooks, seven
forms of live HTML, the grader's environment through /proc/1/environ, filling
/dev/shm, state left for later notebooks and the verification (issue 19). The
batch runs through the TA's command, as root and as a non-root grader (the user
``nobody`` with an interpreter it can run: Debian's python3 with the kit
installed in a venv, ``NONROOT_PYTHON``; skipped with the reason when there is
none); its feedback pages are opened in headless Chromium.
"""

import csv
import hashlib
import html
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from headless_chromium import launched
from nbformat.v4 import new_code_cell, new_markdown_cell
from one_notebook import NOTEBOOK, one_notebook_course

from autograder.course import TA_CONFIG, open_course, samples
from autograder.course.build import HIDDEN_TESTS_DIR, hidden_lines
from autograder.reports import scores as report
from autograder.sandbox import box
from backprop_lib import SOLUTIONS_DIR
from backprop_lib.kit.hints import STATE_NAME

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent  # the repository
NONROOT_PYTHON = Path(os.environ.get("BACKPROP_KIT_NONROOT_PYTHON", "/opt/backprop-nonroot/bin/python"))
NONROOT_USER = "nobody"
KIT_OUTPUTS = {"intake", "autograded", "feedback", "reports", ".grader", "backprop-grades.csv"}
HONEST = ["honest", "Zoë [2]", "=HYPERLINK(1)"]  # the reference, under ids with unicode, brackets, a formula
REFUSED = "ansi\x1b[31m"
BASES = {
    "untouched": "untouched",
    "shadow": "untouched",
    "hijack": "untouched",
    "forger": "untouched",
    "reader": "untouched",
    "tracebacks": "untouched",
    "forkbomb": "honest",
    "fifo": "honest",
    "bigdisplay": "honest",
    "odd names": "honest",
    "server": "untouched",
    "echo": "untouched",
    "html": "honest",
    "environ": "honest",
    "shm": "honest",
    "state": "honest",
}
GRADER_SECRET = "grader-secret-7b1e"  # in the grader's environment; no box may show it

SHADOW = """
from backprop_lib.kit.results import CheckResult
def check_exercise(name, seed=0, time_limit=5.0):
    return CheckResult(name, "", "passed", "a student's kit module")
def run_checks(*args, **kwargs):
    return []
"""

HIJACK = """
import glob, os
from jupyter_client import BlockingKernelClient
files = set(glob.glob("/tmp/**/connection.json", recursive=True))
for entry in os.listdir("/proc"):
    try:
        words = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\\0")
    except OSError:
        continue
    files |= {w.decode() for w in words if w.endswith(b".json")}
mine = os.path.join(os.environ["HOME"], "connection.json")
hijacked = []
for path in sorted(files - {mine}):
    try:
        client = BlockingKernelClient()
        client.load_connection_file(path)
        client.start_channels()
        client.execute("import numpy; numpy.allclose = lambda *a, **k: False", silent=True)
        hijacked.append(path)
    except Exception:
        pass
print("hijacked:", hijacked)
for target in ("../../../reports/honest.json", "../../../gradebook.db", "../../honest/backprop/planted"):
    try:  # the course's folders exist in the box only as empty mount points: a write stays in the box
        open(target, "a").write("PLANTED-BY-" + "A-NEIGHBOUR")
    except OSError:
        pass
"""

FORGER = """
import glob as _glob, json as _json, os as _os, time as _time
def _forge():
    forged = {"cases": 0, "error": {"status": "failed", "summary": "forged by a neighbour"}}
    for _out in _glob.glob("/tmp/**/out", recursive=True) + _glob.glob("/tmp/backprop-secret-*/*/out"):
        if _os.path.realpath(_out) == _os.path.realpath(_os.getcwd()):
            continue
        for _name in ("add_backward", "exp_backward", "sigmoid_backward", "multiply_backward"):
            try:
                open(_os.path.join(_out, _name + ".json"), "w").write(_json.dumps(forged))
            except OSError:
                pass
_forge()
if _os.fork() == 0:  # an orphan that keeps trying after the box is done
    for _ in range(40):
        _time.sleep(0.5)
        _forge()
    _os._exit(0)
"""

FORKBOMB = """
import os as _os, time as _time
try:
    for _ in range(100000):
        if _os.fork() == 0:
            _time.sleep(3600)
            _os._exit(0)
except OSError:
    pass
"""

FIFO = """
import json as _json, os as _os
if _os.path.basename(_os.getcwd()) == "out":
    from backprop_lib.kit.exercises import EXERCISES as _EXERCISES
    for _i, _name in enumerate(_EXERCISES):
        if _os.path.exists(_name + ".json"):
            continue
        try:
            open(_name + ".npz", "wb").write(b"PK\\x03\\x04 not a zip")
            if _i % 2:
                _os.mkfifo(_name + ".json")
            else:
                open(_name + ".json", "w").write(_json.dumps({"cases": 99, "error": None}))
        except OSError:
            pass
"""

READER = """
def {function}(dout, cache):
    import importlib.util, subprocess
    for path in ({solutions!r}, "/opt/solutions/gates.py"):
        try:
            spec = importlib.util.spec_from_file_location("stolen", path)
            stolen = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(stolen)
            return stolen.{function}(dout, cache)
        except Exception:
            pass
    try:
        command = ["git", "-C", {repo!r}, "show", "HEAD:solutions/gates.py"]
        shown = subprocess.run(command, capture_output=True, text=True).stdout
    except OSError:
        shown = ""
    if "def {function}" in shown:
        space = {{}}
        exec(shown, space)
        return space["{function}"](dout, cache)
    raise NotImplementedError("nothing to steal")
"""

READ_CELL = """
import glob, subprocess
found = []
for pattern in ({hidden!r} + "/**/*.py", {repo!r} + "/.git/HEAD", {solutions!r} + "/*.py"):
    for path in glob.glob(pattern, recursive=True):
        found.append(open(path).read())
try:
    import autograder.course.hidden_tests
    found.append("imported " + autograder.course.hidden_tests.__path__[0])
except ImportError as error:
    print(error)
try:
    found.append(subprocess.run(["git", "-C", {repo!r}, "log", "-1"], capture_output=True, text=True).stdout)
except OSError:
    found.append("")
print("FOUND:", found)
"""

TRACEBACKS = """
ip = get_ipython()
ip._showtraceback = lambda *a, **k: None
ip.showtraceback = lambda *a, **k: None
def _forget(result):
    result.error_in_exec = None
ip.events.register("post_run_cell", _forget)
"""

SERVER = """
import glob, json, os, signal, socket
done = []
parent = os.getppid()
for name, attack in [("stop", lambda: os.kill(parent, signal.SIGSTOP)), ("kill", lambda: os.kill(parent, 9))]:
    try:
        attack()
        done.append(name)
    except OSError:
        pass
try:
    words = open(f"/proc/{parent}/cmdline", "rb").read().split(b"\\0")
    path = next(w.decode() for w in words if w.endswith(b".sock"))
    os.unlink(path)
    fake = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    fake.bind(path)
    done.append("replaced")
except (OSError, StopIteration):
    pass
print("server attacks:", done)
"""

ECHO = """
import glob, json
def _echo(result):
    print(result.info.raw_cell)
get_ipython().events.register("post_run_cell", _echo)
found = []
for path in glob.glob("*.ipynb"):
    text = open(path).read()
    if "### BEGIN " + "HIDDEN TESTS" in text:
        found.append(path)
        print(text)
print("autograded notebooks read:", found)
"""

LIVE_HTML = [  # the seven forms of live HTML a notebook displayed, each trying to run or to navigate
    """<img src=x onerror="document.title='PWNED'">""",
    """<a id=go href="javascript:document.title='PWNED'">click</a>""",
    """<svg onload="document.title='PWNED'"></svg>""",
    """<iframe srcdoc="<script>parent.document.title='PWNED'</script>"></iframe>""",
    """<meta http-equiv=refresh content="0;url=https://example.com/PWNED">""",
    """<form action="https://example.com/PWNED"><button>send</button></form>""",
    """<object data="data:text/html,<script>parent.document.title='PWNED'</script>"></object>""",
]
HTML_CELL = "from IPython.display import HTML, display\n" + "\n".join(f"display(HTML({form!r}))" for form in LIVE_HTML)

ENVIRON = """
found = []
for path in ("/proc/1/environ", "/proc/self/environ"):
    try:
        found += [entry for entry in open(path).read().split("\\0") if entry.startswith("GRADER_")]
    except OSError:
        pass
print("grader environment seen:", found)
"""

SHM = """
written = 0
try:
    with open("/dev/shm/fill", "wb") as file:
        for _ in range(300):
            file.write(b"x" * (1 << 20))
            written += 1
except OSError as error:
    print("shm stopped:", error.strerror)
print("shm written MB:", written)
"""

STATE_CELL = """
import os
for folder in ("/tmp", "/dev/shm", os.environ["HOME"]):
    try:
        open(os.path.join(folder, "planted-state"), "w").write("from the notebook")
    except OSError:
        pass
"""
STATE_LIBRARY = """
def _saw_planted_state():
    import os
    return [f for f in ("/tmp", "/dev/shm", os.environ.get("HOME", "/")) if os.path.exists(f + "/planted-state")]
_add_backward = add_backward
def add_backward(dout, cache):
    seen = _saw_planted_state()
    if seen:
        raise RuntimeError(f"SAW PLANTED STATE in {seen}")
    return _add_backward(dout, cache)
"""

BIG_DISPLAY = """
import base64, os
from IPython.display import display
display({"image/png": base64.b64encode(os.urandom(30 << 20)).decode()}, raw=True)
print("x" * (5 << 20))
"""


def library(folder, module="gates"):
    return folder / "backprop_lib" / f"{module}.py"


def append(path, code):
    path.write_text(path.read_text() + "\n" + textwrap.dedent(code))


def add_cell(folder, code, markdown=False, index=2):
    path = folder / f"{NOTEBOOK}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(index, new_markdown_cell(code) if markdown else new_code_cell(textwrap.dedent(code).strip()))
    nbformat.write(notebook, path)
    return notebook


def make_submissions(course):
    """The honest controls, the hostile samples (each a copy of its base, changed), a refused id."""
    made = samples.make(course, ["reference", "untouched"])
    submitted = course.root / "submitted"
    for name in [*HONEST, REFUSED]:
        shutil.copytree(made["reference"], submitted / name / "backprop")
    shutil.rmtree(submitted / "reference")
    for name, base in BASES.items():
        if name != base and name != "untouched":
            shutil.copytree(submitted / base / "backprop", submitted / name / "backprop")
    folder = {name: submitted / name / "backprop" for name in BASES}
    for kit_file in ("kit/checking/__init__.py", "kit/exercises/__init__.py", "kit/notebook/__init__.py"):
        (folder["shadow"] / "backprop_lib" / kit_file).parent.mkdir(parents=True, exist_ok=True)
        (folder["shadow"] / "backprop_lib" / kit_file).write_text(SHADOW)
    add_cell(folder["hijack"], HIJACK)
    append(library(folder["forger"]), FORGER)
    append(library(folder["forkbomb"]), FORKBOMB)
    append(library(folder["fifo"]), FIFO)
    for function in ("add_backward", "multiply_backward", "exp_backward", "scale_backward"):
        code = READER.format(function=function, solutions=str(SOLUTIONS_DIR / "gates.py"), repo=str(REPO))
        mistake = samples.catalog().Mistake("hostile", "gates", function, code, None)
        path = library(folder["reader"])
        path.write_text(samples.catalog().plant(path.read_text(), mistake))
    add_cell(
        folder["reader"],
        READ_CELL.format(hidden=str(HIDDEN_TESTS_DIR), repo=str(REPO), solutions=str(SOLUTIONS_DIR)),
    )
    add_cell(folder["tracebacks"], TRACEBACKS)
    add_cell(folder["server"], SERVER)
    add_cell(folder["echo"], ECHO)
    add_cell(folder["html"], HTML_CELL)
    add_cell(folder["environ"], ENVIRON)
    add_cell(folder["shm"], SHM)
    add_cell(folder["state"], STATE_CELL)
    append(library(folder["state"]), STATE_LIBRARY)
    add_cell(folder["bigdisplay"], BIG_DISPLAY)
    notebook = add_cell(folder["bigdisplay"], "![big](attachment:big.png)", markdown=True)
    notebook.cells[2]["attachments"] = {"big.png": {"image/png": "A" * (5 << 20)}}
    nbformat.write(notebook, folder["bigdisplay"] / f"{NOTEBOOK}.ipynb")
    for odd in ("=2+5*7.ipynb", "\x1b[2Jcleared.ipynb"):
        shutil.copyfile(folder["odd names"] / f"{NOTEBOOK}.ipynb", folder["odd names"] / odd)
    # the course records hints: an honest record, a pipe and a link to a valid record named like it
    record_hints = course.root / TA_CONFIG
    record_hints.write_text(record_hints.read_text().replace("record_hints = False", "record_hints = True"))
    (submitted / "honest" / "backprop" / STATE_NAME).write_text('{"opened": {"add_backward": 2}}')
    os.mkfifo(folder["fifo"] / STATE_NAME)
    (course.root.parent / "record.json").write_text('{"opened": {"add_backward": 1}}')
    (folder["shadow"] / STATE_NAME).symlink_to(course.root.parent / "record.json")


def snapshot(course):
    """{relative path: sha256} of every file the kit must never change (everything but its own outputs)."""
    files = {}
    for path in sorted(course.root.rglob("*")):
        relative = path.relative_to(course.root)
        if relative.parts[0] in KIT_OUTPUTS or relative.parts[0].startswith("gradebook.db") or path.is_dir():
            continue
        files[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "special"
    return files


def box_processes(course, user):
    """Processes of this batch's boxes still there after a moment: a box uid (root) or a user namespace of
    ``user``'s (non-root) with this course's folders mounted, or the course folder on the command line (other
    graders on the machine, e.g. tests running beside this one, differ)."""
    init_namespace = os.readlink("/proc/self/ns/user")  # the grader runs in the machine's own
    batch = f"{course.root.parent.name}/{course.root.name}"  # as mountinfo shows it, whatever /tmp's file system
    uid = pwd.getpwnam(user).pw_uid if user else None
    deadline = time.monotonic() + 10  # a box of a hundred killed processes takes a moment to be reaped
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if not entry.name.isdigit():
                    continue
                line = (entry / "cmdline").read_bytes().decode(errors="replace")
                status = (entry / "status").read_text()
                owner = int(status.split("Uid:")[1].split()[0])
                if status.split("State:")[1].split()[0] in ("Z", "X"):
                    continue  # dead, waiting to be reaped
                namespace = os.readlink(entry / "ns" / "user")
                mounts = (entry / "mountinfo").read_text()
            except (OSError, IndexError, ValueError):
                continue
            # a box of this batch mounts something of this course (other tests may grade on the machine too)
            boxed = owner >= box.UID_BASE or (owner == uid and namespace != init_namespace)
            if (boxed and batch in mounts) or str(course.root) in line:
                found.append(f"{entry.name}: {line[:200]}")
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def course_for(parent, owner=None):
    """A course of notebooks 01 and 02 (the hostile cells are in 02, graded after 01) with every submission, owned
    by ``owner`` (a user name) if given."""
    course = one_notebook_course(parent, names=("01_chain_rule", NOTEBOOK), cell_timeout=60)  # same verdict loaded
    make_submissions(course)
    if owner:
        account = pwd.getpwnam(owner)
        for path in [parent, *parent.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    return course


def batch_tmp(course):
    """The temporary folder of this batch's grader (TMPDIR)."""
    return course.root.parent / "tmp"


def grade_batch(course, python, user=None):
    """`backprop-kit course grade` (then export and feedback) as ``user``; returns the grade step's result."""
    home = course.root.parent / "home"
    home.mkdir(exist_ok=True)
    temporary = batch_tmp(course)
    temporary.mkdir(exist_ok=True)
    temporary.chmod(0o1777)  # the grader's TMPDIR, of this batch alone (tests beside it grade too)
    env = {"PATH": f"{Path(python).parent}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    env["TMPDIR"] = str(temporary)
    env["GRADER_SECRET"] = GRADER_SECRET
    prefix = []
    if user:
        account = pwd.getpwnam(user)
        os.chown(home, account.pw_uid, account.pw_gid)
        prefix = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups", "--"]

    def kit(*args):
        command = [*prefix, str(python), "-m", "backprop_lib.kit.cli", "course", *args, "-C", str(course.root)]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)

    start = time.monotonic()
    graded = kit("grade", "--jobs", "2")
    graded.seconds = time.monotonic() - start
    escaped = kit("grade", "--student", "../escape")
    exported = kit("export")
    feedback = kit("feedback")
    assert exported.returncode == 0 and feedback.returncode == 0, exported.stderr + feedback.stderr
    return graded, escaped, exported


def check_batch(course, user, before, graded, escaped, exported):
    course = open_course(course.root)
    assert graded.returncode == 2, graded.stderr[-3000:]  # one id refused, every other student graded
    assert "student id 'ansi\\x1b[31m' holds control characters" in graded.stderr
    assert escaped.returncode == 2 and "'/'" in escaped.stderr
    for output in (graded.stdout, graded.stderr, exported.stdout):
        assert "\x1b" not in output, "a name reached the terminal unescaped"
    assert not (course.reports / f"{REFUSED}.json").exists()

    cells = report.grade_cells(course)
    scores = {s.student: s for s in report.collect(course)}
    assert set(scores) == {*HONEST, *BASES}
    maximum = sum(cell.points for cell in cells)
    honest = scores["honest"]
    assert honest.test_total == maximum and honest.total == maximum, honest.record.reasons()
    for name in HONEST:  # every honest control: exactly the honest score, cell by cell
        assert finals(scores[name]) == finals(honest) and not scores[name].flagged, name
        assert all(r.passed for r in scores[name].verified.values()), name
    untouched = scores["untouched"]
    assert not any(r.passed for r in untouched.verified.values())

    for name, base in BASES.items():  # every hostile student: at most its honest base, cell by cell
        mine, theirs = scores[name], scores[base]
        passed = {n for n, r in mine.verified.items() if r.passed}
        assert passed <= {n for n, r in theirs.verified.items() if r.passed}, name
        assert all(mine.score(key) <= theirs.score(key) for key in theirs.cells), (name, finals(mine))
    faked = scores["tracebacks"]  # suppressed tracebacks fake the kernel's tests; the verification fails them all
    assert faked.flagged and not any(r.passed for r in faked.verified.values())
    assert finals(scores["odd names"]) == finals(honest) and finals(scores["bigdisplay"]) == finals(honest)
    assert honest.hints == "add_backward:2" and scores["Zoë [2]"].hints == "none"  # recorded, never scored
    for name in ("fifo", "shadow"):  # a pipe named like the hint record did not stall the batch, a link did not fool it
        assert scores[name].hints == "not recorded", name
        assert any(note.startswith("hint record unreadable") for note in scores[name].notes()), name

    hijack = (course.folder("autograded", "hijack") / f"{NOTEBOOK}.ipynb").read_text()
    assert "hijacked: []" in hijack
    planted = [p for p in course.root.rglob("*") if p.is_file() and b"PLANTED-BY-A-NEIGHBOUR" in p.read_bytes()]
    assert not planted and not (course.folder("intake", "honest") / "planted").exists()
    reader = (course.folder("autograded", "reader") / f"{NOTEBOOK}.ipynb").read_text()
    # nothing found; the kit's package is absent (editable install) or an empty folder (installed from a wheel)
    assert "FOUND: ['']" in reader and "No module named 'autograder" in reader
    check_new_attacks(course, scores, user)
    big = course.folder("autograded", "bigdisplay") / f"{NOTEBOOK}.ipynb"
    assert big.stat().st_size < 4 << 20 and "the grader dropped output here" in big.read_text()
    assert any("attachments" in note for note in scores["bigdisplay"].record.reasons())

    with open(course.root / "backprop-grades.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")]
    formula = next(row for row in rows if "HYPERLINK" in row[0])
    assert formula[0] == "'=HYPERLINK(1)" and float(formula[rows[0].index("grade")]) == maximum

    for name in ("honest", "hijack", "forkbomb"):  # as root, warm kernels: each student's own kernel server
        warm = "forkserver: kernel" in (course.reports / "logs" / name / "worker.log").read_text()
        assert warm == (user is None and os.geteuid() == 0), name  # a non-root grader starts every kernel cold
    assert snapshot(course) == before, "the course folder changed outside the kit's own outputs"
    assert not box_processes(course, user)
    assert not list(batch_tmp(course).glob("backprop-secret-*")), "secret cases outlived the grading"
    budget = (300 + 60 + 60) * len(scores) / 2  # per student: notebook limit, verification, margin; 2 at once
    assert graded.seconds < budget


def autograded(course, student, notebook=NOTEBOOK):
    return (course.folder("autograded", student) / f"{notebook}.ipynb").read_text()


def check_new_attacks(course, scores, user):
    """Issue 19's attacks: each failed, none changed a score, nothing of them reached a page."""
    attacks = re.search(r"server attacks: (\[.*?\])", autograded(course, "server")).group(1)
    assert "replaced" not in attacks  # a cold kernel's parent is its box's init, which ignores its signals
    if box.warm_possible() and user is None:  # a warm kernel's parent is its server, another uid: all refused
        assert attacks == "[]", attacks
    assert '"autograded notebooks read: []' in autograded(course, "echo")
    assert '"grader environment seen: []' in autograded(course, "environ")
    shm = autograded(course, "shm")
    assert "shm stopped: No space left on device" in shm and "shm written MB: 16" in shm
    seen = [r.summary for s in scores.values() for r in s.verified.values() if "SAW PLANTED STATE" in r.summary]
    assert not seen, seen
    for name in ("html", "environ", "shm", "state"):
        assert finals(scores[name]) == finals(scores["honest"]), name
    hidden = hidden_lines(course.source)
    pages = sorted(course.root.glob("feedback/*/*/*.html"))
    assert pages and hidden
    for page in pages:
        text = html.unescape(page.read_text())
        assert not [line for line in hidden if line in text], page
        assert GRADER_SECRET not in text, page
    for page in pages:  # the displayed forms' code may show, as text; no element of them is left
        soup = BeautifulSoup(page.read_text(), "html.parser")
        assert not soup.find_all(["script", "iframe", "form", "object", "embed", "svg"]), page
        assert not soup.find_all("meta", attrs={"http-equiv": re.compile("refresh", re.I)}), page
        for element in soup.find_all(True):
            assert not [name for name in element.attrs if name.lower().startswith("on")], (page, element.name)
            assert not str(element.get("href", "")).lower().startswith("javascript:"), page
    assert_inert_in_chromium(pages)


def assert_inert_in_chromium(pages):
    """Every page opened in headless Chromium: no script ran (the title stays), nothing navigated, asked or loaded."""
    with launched() as browser:
        for path in pages:
            title, events = opened(browser, path)
            assert "PWNED" not in title and not events, (path, title, events)


def opened(browser, path):
    """(the title, every dialog, navigation away and request but the page itself) of ``path`` in ``browser``."""
    page, events, url = browser.new_page(), [], path.as_uri()

    def dialog(shown):
        events.append(f"dialog {shown.message}")
        shown.dismiss()

    def request(route):
        if route.request.url == url:
            route.continue_()
        else:
            events.append(f"request {route.request.url}")
            route.abort()

    page.on("dialog", dialog)
    page.on("framenavigated", lambda frame: frame.url == url or events.append(f"navigated {frame.url}"))
    page.route("**/*", request)
    page.goto(url)
    page.wait_for_timeout(300)
    title = page.title()
    page.close()
    return title, events


def finals(scores):
    """{grade cell: final score} of one student (autograder.gradebook.final_grade)."""
    return {key: scores.score(key) for key in scores.cells}


@pytest.fixture
def parent():
    folder = Path(tempfile.mkdtemp(prefix="backprop-hostile-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("grader", ["this user", "non-root"])
def test_a_hostile_class_graded_in_one_batch(grader, parent):
    if grader == "non-root":
        if os.geteuid() != 0:
            pytest.skip("already running as a non-root grader")
        if not NONROOT_PYTHON.is_file():
            pytest.skip(f"no interpreter a non-root grader can run at {NONROOT_PYTHON} (BACKPROP_KIT_NONROOT_PYTHON)")
    user = NONROOT_USER if grader == "non-root" else None
    course = course_for(parent, owner=user)
    before = snapshot(course)
    python = NONROOT_PYTHON if user else Path(sys.executable)
    graded, escaped, exported = grade_batch(course, python, user)
    check_batch(course, user, before, graded, escaped, exported)
