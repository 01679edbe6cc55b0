"""A course on a real JupyterHub, from the two commands of docs/hub.md, used in headless Chromium.

The test creates one instructor and three students as Unix accounts (names with
this run's prefix; removed at the end with the course's grader account), runs
docs/hub.md's `hub init` and `hub start` as written there (with this run's
names, a free block of loopback ports), and then, through the hub's proxy:

- student 1 logs in (PAM, the password `hub init` gave), lands in notebook 01 of
  their fetched assignment, opens backprop_lib/gradient_check.py from the file
  browser, writes the exercise in the editor, runs the check and test cells, and
  submits with the Assignment List (their other exercise files hold their earlier,
  correct work, written by the test as their account);
- student 2 submits the untouched stubs;
- the instructor opens formgrader from the hub's Services menu, collects, sees both
  submissions; the grader account grades with `backprop-kit course grade` and writes
  feedback; the instructor releases it in formgrader;
- student 1 fetches feedback in the Assignment List and reads the full score;
- student 3, from a notebook, tries to read what is not theirs (denied);
- Ctrl-C stops everything the hub started; `hub start` again finds everyone's work.

Screenshots go to artifacts/hub/ at the repository's root (git-ignored), the
hub's log beside them.
"""

import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from headless_chromium import launched

from backprop_lib import EXERCISE_MODULES

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "hub"
DOCS = REPO / "docs" / "hub.md"
RUN = f"bk{secrets.token_hex(2)}"
INSTRUCTOR, STUDENTS, COURSE = f"{RUN}i1", [f"{RUN}s{n}" for n in (1, 2, 3)], f"{RUN}c"
GRADER = f"grader-{COURSE}"
MS = 1000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(2400),
    pytest.mark.skipif(os.geteuid() != 0, reason="the hub creates Unix accounts: run as root"),
    pytest.mark.skipif(not shutil.which("configurable-http-proxy"), reason="npm install -g configurable-http-proxy"),
]


def free_port_block(size=5):
    """A port p such that p .. p + size - 1 are free on 127.0.0.1 now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size < 65535 and all(_free(base + n) for n in range(size)):
            return base
    raise RuntimeError("no block of free ports")


def _free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _listened(port):
    """Whether a process accepts connections on 127.0.0.1:``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return True
    except ConnectionRefusedError:
        return False


def processes_of(name):
    """The ids of the processes running as the account ``name`` (none if there is no such account)."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                found.append(int(entry.name))
        except FileNotFoundError:
            continue
    return found


def documented_commands():
    """The `hub init` and `hub start` command lines of docs/hub.md's first section, as written there."""
    section = DOCS.read_text().split("\n## ", 2)[1]
    commands = [line.strip() for line in section.splitlines() if line.strip().startswith(".venv/bin/backprop-kit")]
    init, start = commands
    assert init.split()[1:3] == ["hub", "init"] and start.split()[1:3] == ["hub", "start"], commands
    return shlex.split(init), shlex.split(start)


def as_this_run(argv, folder, roster, port):
    """A documented command with this run's kit, folder, accounts and ports (everything else as written)."""
    placeholders = {"/srv/backprop": str(folder), "students.txt": str(roster), "lecturer": INSTRUCTOR}
    argv = [placeholders.get(word, word) for word in argv]
    argv[0] = str(Path(sys.executable).parent / "backprop-kit")
    if "init" in argv:
        argv += ["--course-id", COURSE, "--port", str(port), "--ip", "127.0.0.1"]
    return argv


class Hub:
    """`hub start` in the background, its log in artifacts/."""

    def __init__(self, argv, url, log):
        self.argv, self.url, self.log, self.process = argv, url, log, None

    def start(self):
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"hub start exited:\n{self.log.read_text()[-4000:]}"
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=3):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"the hub did not answer:\n{self.log.read_text()[-4000:]}")

    def stop(self):
        """Ctrl-C, as a TA stops it in the terminal; the exit status of `hub start`."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=300)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture(scope="module")
def accounts():
    yield
    for name in [INSTRUCTOR, *STUDENTS, GRADER]:
        for pid in processes_of(name):  # none if the hub stopped as it should; it is checked below
            os.kill(pid, signal.SIGKILL)
        subprocess.run(["userdel", "--remove", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)


@pytest.fixture(scope="module")
def deployment(accounts):
    folder = Path(tempfile.mkdtemp(prefix="backprop-hub-", dir="/tmp"))
    roster = folder.parent / f"{folder.name}-students.txt"
    try:
        yield from _deployment(folder, roster)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        roster.unlink(missing_ok=True)


def _deployment(folder, roster):
    """docs/hub.md's two commands for this run: `hub init`, then `hub start` in the background."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    roster.write_text("# this run's students\n" + "".join(f"{name}\n" for name in STUDENTS))
    init, start = documented_commands()
    port = free_port_block()
    started = time.monotonic()
    done = subprocess.run(as_this_run(init, folder, roster, port), capture_output=True, text=True, timeout=1800)
    took = f"hub init took {time.monotonic() - started:.0f} s, load average {os.getloadavg()[0]:.1f}\n"
    (ARTIFACTS / "hub-init.log").write_text(done.stdout + done.stderr + took)
    assert done.returncode == 0, done.stderr[-4000:]
    hub = Hub(as_this_run(start, folder, roster, port), f"http://127.0.0.1:{port}", ARTIFACTS / "hub.log")
    hub.folder = folder
    hub.passwords = dict(line.split() for line in (folder / "passwords.txt").read_text().splitlines())
    (ARTIFACTS / "hub.log").write_text("")
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def browser(deployment):
    with launched() as chromium:
        yield chromium


OPEN_PAGES = []


@pytest.fixture(autouse=True)
def shots_of_what_a_failed_test_left(request):
    """A passing test closes its pages; a screenshot of each page a test left open (it failed) for CI's artifacts."""
    yield
    for number, page in enumerate(OPEN_PAGES):
        if not page.is_closed():
            page.screenshot(path=ARTIFACTS / f"failed-{request.node.name}-{number}.png")
            page.context.close()
    OPEN_PAGES.clear()


def log_in(browser, hub, user):
    """A new browser session of ``user``, logged in through the hub's login page."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    OPEN_PAGES.append(page)
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.passwords[user])
    page.click("#login_submit")
    return page


def wait_for_notebook(page, name):
    """Wait until the notebook ``name`` is the one shown, its cells rendered."""
    page.locator(".lm-TabBar-tab.lm-mod-current", has_text=name).first.wait_for(timeout=240 * MS)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.wait_for(timeout=60 * MS)


def run_cell(page, marker):
    """Run the shown notebook's code cell holding ``marker`` (click, Shift+Enter); its output's text."""
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").filter(has_text=marker).first
    prompt = cell.locator(".jp-InputPrompt")
    # The notebook's kernel is up (a cell run before it is may be dropped, or asks which kernel to start).
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=180 * MS)
    before = prompt.inner_text()
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "([el, before]) => el.innerText !== before && /\\[\\d+\\]/.test(el.innerText)",
        arg=[prompt.element_handle(), before],
        timeout=180 * MS,
    )
    return cell.locator(".jp-OutputArea").inner_text()


def open_in_file_browser(page, *names):
    listing = page.locator(".jp-DirListing-content")
    for name in names:
        listing.get_by_text(name, exact=True).dblclick()


def open_assignment_list(page):
    """Nbgrader > Assignment List; its shown "downloaded" and "submitted" sections (JupyterLab may also hold the
    panel it restored from the last visit, hidden)."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    fetched = page.locator("#fetched_assignments_list").filter(visible=True)
    fetched.wait_for(timeout=60 * MS)
    return fetched, page.locator("#submitted_assignments_list").filter(visible=True)


def submit(page, shot):
    fetched, submitted = open_assignment_list(page)
    fetched.locator("button", has_text="Submit").click(timeout=60 * MS)
    submitted.locator(".list_item").first.wait_for(timeout=120 * MS)
    page.screenshot(path=ARTIFACTS / shot)


def home_of(user):
    return Path(pwd.getpwnam(user).pw_dir)


def write_as(user, path, text):
    """Write ``path`` as ``user`` would (their file, their mode)."""
    subprocess.run(
        ["runuser", "-u", user, "--", "tee", str(path)], input=text, text=True, check=True, capture_output=True
    )


def as_grader(hub, *argv):
    """A `backprop-kit` command as the course's grader account, as a TA runs it in the course's terminal."""
    kit = hub.folder / "grader-env" / "bin" / "backprop-kit"
    command = [shutil.which("runuser"), "-u", GRADER, "--", str(kit), *argv]
    env = {"HOME": str(hub.folder / "grader"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=1500, env=env, cwd="/")
    return done


def test_hub_init_made_accounts_a_private_course_and_a_student_environment_without_the_autograder(deployment):
    folder = deployment.folder
    for name in [INSTRUCTOR, *STUDENTS]:
        assert name in deployment.passwords, f"{name} got no first password"
        assert home_of(name).stat().st_mode & 0o777 == 0o700
    grader = pwd.getpwnam(GRADER)
    assert (folder / "course").stat().st_uid == grader.pw_uid
    assert (folder / "course").stat().st_mode & 0o777 == 0o700
    assert (folder / "exchange").stat().st_mode & 0o7777 == 0o1777
    assert (folder / "exchange" / COURSE).stat().st_uid == grader.pw_uid
    assert (folder / "grader-env").stat().st_mode & 0o777 == 0o750
    for private in ("passwords.txt", "jupyterhub_config.py", "deployment.json", "hub"):
        assert (folder / private).stat().st_mode & 0o077 == 0, private
    student_env = folder / "student-env"
    assert not list(student_env.rglob("hidden_tests")) and not list(student_env.rglob("autograder"))
    assert (student_env / "bin" / "backprop-kit").is_file()
    release = folder / "exchange" / COURSE / "outbound" / "backprop"
    assert (release / "01_chain_rule.ipynb").is_file() and (release / "backprop_lib" / "gates.py").is_file()


def test_a_student_works_in_the_fetched_assignment_and_submits(deployment, browser):
    student = STUDENTS[0]
    page = log_in(browser, deployment, student)
    page.wait_for_url(f"**/user/{student}/lab/tree/{COURSE}/backprop/01_chain_rule.ipynb", timeout=240 * MS)
    wait_for_notebook(page, "01_chain_rule.ipynb")
    page.screenshot(path=ARTIFACTS / "1-student-lands-in-notebook-01.png")
    assert "Nbgrader" in page.locator(".lm-MenuBar-content").inner_text()

    # Their earlier work: every exercise file but gradient_check.py holds the correct functions.
    from solutions.mistakes import write_library

    workspace = home_of(student) / COURSE / "backprop"
    with tempfile.TemporaryDirectory() as scratch:
        library = write_library(scratch)
        for module in EXERCISE_MODULES:
            if module != "gradient_check":
                write_as(student, workspace / "backprop_lib" / f"{module}.py", (library / f"{module}.py").read_text())
        answer = (library / "gradient_check.py").read_text()

    open_in_file_browser(page, "backprop_lib", "gradient_check.py")
    editor = page.locator(".jp-FileEditor .cm-content")
    editor.wait_for(timeout=60 * MS)
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(answer)
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=60 * MS)
    assert (workspace / "backprop_lib" / "gradient_check.py").read_text() == answer
    assert (workspace / "backprop_lib" / "gradient_check.py").stat().st_uid == pwd.getpwnam(student).pw_uid
    page.screenshot(path=ARTIFACTS / "2-student-writes-numerical-gradient.png")

    page.locator(".lm-TabBar-tabLabel", has_text="01_chain_rule.ipynb").first.click()
    run_cell(page, "setup()")
    check = run_cell(page, 'backprop_lib.check("numerical_gradient", "relative_error")')
    assert re.search(r"numerical_gradient\s+passed", check) and "2 passed, 0 failed" in check, check
    assert run_cell(page, 'result = checked("numerical_gradient")').strip() == ""
    page.screenshot(path=ARTIFACTS / "3-student-check-cell-passes.png")

    submit(page, "4-student-submitted.png")
    page.context.close()


def test_the_student_tools_run_in_a_terminal_of_the_assignment_as_the_student(deployment):
    student, kit = STUDENTS[0], deployment.folder / "student-env" / "bin" / "backprop-kit"
    workspace = home_of(student) / COURSE / "backprop"
    env = {"HOME": str(home_of(student)), "PATH": f"{kit.parent}:/usr/bin:/bin", "LANG": "C.UTF-8"}

    def run(*argv):
        command = [shutil.which("runuser"), "-u", student, "--", str(kit), *argv]
        return subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=300)

    checked = run("check")
    assert checked.returncode == 0 and "passed, 0 failed, 0 not implemented yet" in checked.stdout, checked
    hinted = run("hint", "relu_backward")
    assert hinted.returncode == 0 and "relu_backward, hint 1 of 3" in hinted.stdout, hinted
    assert run("course", "--help").returncode == 2, "the students' kit has no autograder commands"


def test_a_second_student_submits_the_untouched_stubs(deployment, browser):
    page = log_in(browser, deployment, STUDENTS[1])
    wait_for_notebook(page, "01_chain_rule.ipynb")
    submit(page, "5-second-student-submitted.png")
    page.context.close()


def student_status(hub, student):
    """What `backprop-kit status` tells ``student`` in a terminal of their assignment."""
    kit = hub.folder / "student-env" / "bin" / "backprop-kit"
    env = {"HOME": str(home_of(student)), "PATH": f"{kit.parent}:/usr/bin:/bin", "LANG": "C.UTF-8"}
    command = [shutil.which("runuser"), "-u", student, "--", str(kit), "status"]
    workspace = home_of(student) / COURSE / "backprop"
    return subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=120).stdout


def test_the_grading_service_grades_each_submission_as_it_arrives(deployment):
    """Nobody runs `course grade`: the hub's grading service saw both submissions, graded them, released their
    feedback, and each student reads the result with `backprop-kit status`."""
    deadline, seen = time.monotonic() + 900, {}
    while time.monotonic() < deadline:
        seen = {student: student_status(deployment, student) for student in STUDENTS[:2]}
        if all("points" in text for text in seen.values()):
            break
        time.sleep(5)
    first = re.search(r"graded .*: (\S+)/(\S+) points", seen[STUDENTS[0]])
    second = re.search(r"graded .*: (\S+)/(\S+) points", seen[STUDENTS[1]])
    assert first and second, seen
    assert float(first.group(1)) == float(first.group(2)) > float(second.group(1)), seen
    assert "feedback released" in seen[STUDENTS[0]], seen


def test_the_instructors_see_what_the_class_got_wrong_and_students_do_not(deployment, browser):
    url = f"{deployment.url}/services/grading-{COURSE}/"
    page = log_in(browser, deployment, INSTRUCTOR)
    page.wait_for_url("**/user/**", timeout=240 * MS)
    page.goto(url)
    page.get_by_role("heading", name=re.compile("What the class got wrong")).wait_for(timeout=120 * MS)
    assert "2 students" in page.inner_text("body")
    page.screenshot(path=ARTIFACTS / "5b-instructor-reads-the-insights.png", full_page=True)
    page.context.close()
    page = log_in(browser, deployment, STUDENTS[2])
    page.wait_for_url("**/user/**", timeout=240 * MS)
    answer = page.goto(url)
    assert answer.status == 403 and "What the class got wrong" not in page.content()
    page.context.close()


def test_the_instructor_collects_in_formgrader_grades_and_releases_feedback(deployment, browser):
    page = log_in(browser, deployment, INSTRUCTOR)
    page.wait_for_url("**/user/**", timeout=240 * MS)
    page.goto(f"{deployment.url}/hub/home")
    page.get_by_text("Services").click()
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=COURSE, exact=True).click(modifiers=["Control"])
    formgrader = opened.value
    formgrader.wait_for_url("**/formgrader**", timeout=120 * MS)
    row = formgrader.locator("tr", has_text="backprop").first
    row.wait_for(timeout=120 * MS)
    formgrader.screenshot(path=ARTIFACTS / "6-formgrader-manage-assignments.png")
    row.locator(".collect a").click()
    formgrader.get_by_text("Successfully collected submissions").wait_for(timeout=120 * MS)
    formgrader.keyboard.press("Escape")
    formgrader.goto(f"{deployment.url}/services/{COURSE}/formgrader/manage_submissions/backprop")
    for student in STUDENTS[:2]:
        formgrader.locator("td", has_text=student).first.wait_for(timeout=60 * MS)
    assert formgrader.locator("td", has_text=STUDENTS[2]).count() == 0
    formgrader.screenshot(path=ARTIFACTS / "7-formgrader-sees-both-submissions.png")

    graded = as_grader(deployment, "course", "grade", "-C", str(deployment.folder / "course"), "--json")
    assert graded.returncode == 0, graded.stderr[-4000:]
    grades = {entry["student"]: entry for entry in json.loads(graded.stdout)}
    first, second = grades[STUDENTS[0]], grades[STUDENTS[1]]
    assert first["grade"] == first["max_grade"] > second["grade"], (first, second)
    written = as_grader(deployment, "course", "feedback", "-C", str(deployment.folder / "course"))
    assert written.returncode == 0, written.stderr[-4000:]

    formgrader.goto(f"{deployment.url}/services/{COURSE}/formgrader")
    row = formgrader.locator("tr", has_text="backprop").first
    row.locator(".release-feedback a").click(timeout=120 * MS)
    formgrader.get_by_text("Successfully released feedback").wait_for(timeout=120 * MS)
    formgrader.screenshot(path=ARTIFACTS / "8-formgrader-released-feedback.png")
    page.context.close()


def test_the_first_student_fetches_feedback_and_sees_the_full_score(deployment, browser):
    page = log_in(browser, deployment, STUDENTS[0])
    wait_for_notebook(page, "01_chain_rule.ipynb")
    _, submitted = open_assignment_list(page)
    submitted.locator("button", has_text="Fetch Feedback").click(timeout=60 * MS)
    submitted.get_by_text("(view feedback)").wait_for(timeout=120 * MS)
    page.screenshot(path=ARTIFACTS / "9-student-fetched-feedback.png")
    (feedback,) = (home_of(STUDENTS[0]) / COURSE / "backprop" / "feedback").glob("*/01_chain_rule.html")
    relative = feedback.relative_to(home_of(STUDENTS[0])).as_posix()
    page.goto(f"{deployment.url}/user/{STUDENTS[0]}/lab/tree/{urllib.parse.quote(relative)}")
    frame = page.frame_locator(".jp-MainAreaWidget:not(.lm-mod-hidden) iframe")
    heading = frame.locator("h2", has_text="Your grade:")
    heading.wait_for(timeout=60 * MS)
    page.screenshot(path=ARTIFACTS / "10-student-reads-feedback.png")
    got, most = re.fullmatch(r"Your grade: (\S+)/(\S+)", heading.inner_text().strip()).groups()
    assert float(got) == float(most) > 0
    page.context.close()


PROBE = """import glob, json, os

def attempt(how, path):
    try:
        os.listdir(path) if how == "list" else open(path, "rb").read(1)
        return "read"
    except PermissionError:
        return "denied"
    except OSError as error:
        return type(error).__name__

try:
    import autograder
    autograder_found = autograder.__file__
except ImportError:
    autograder_found = None
print(json.dumps({
    "uid": os.getuid(),
    "attempts": {path: attempt(how, path) for how, path in TARGETS},
    "submissions found": glob.glob(INBOUND + "/*"),
    "autograder": autograder_found,
}))
"""


def probe_targets(hub):
    """What student 3 must not read: (how, path), each of which exists."""
    folder, first = hub.folder, STUDENTS[0]
    course, exchange = folder / "course", folder / "exchange" / COURSE
    (feedback,) = (home_of(first) / COURSE / "backprop" / "feedback").glob("*/01_chain_rule.html")
    (hidden,) = list((folder / "grader-env").rglob("hidden_tests/01_chain_rule/numerical_gradient.py"))
    targets = [
        ("list", home_of(first)),
        ("read", home_of(first) / COURSE / "backprop" / "backprop_lib" / "gradient_check.py"),
        ("read", feedback),
        ("list", exchange / "inbound"),
        ("list", exchange / "feedback"),
        ("list", course),
        ("read", course / "source" / "backprop" / "01_chain_rule.ipynb"),
        ("read", course / "gradebook.db"),
        ("read", course / "submitted" / first / "backprop" / "backprop_lib" / "gradient_check.py"),
        ("read", course / "feedback" / first / "backprop" / "01_chain_rule.html"),
        ("read", hidden),
        ("list", folder / "grader-env"),
        ("list", folder / "grader"),
        ("read", folder / "passwords.txt"),
        ("read", folder / "jupyterhub_config.py"),
        ("read", folder / "hub" / "jupyterhub.sqlite"),
    ]
    for _, path in targets:
        assert path.exists(), path
    return [(how, str(path)) for how, path in targets]


def test_a_student_cannot_read_what_is_not_theirs_from_a_notebook(deployment, browser):
    import nbformat

    student = STUDENTS[2]
    page = log_in(browser, deployment, student)
    wait_for_notebook(page, "01_chain_rule.ipynb")
    inbound = deployment.folder / "exchange" / COURSE / "inbound"
    code = f"TARGETS = {probe_targets(deployment)!r}\nINBOUND = {str(inbound)!r}\n{PROBE}"
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}}
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)], metadata=kernel)
    write_as(student, home_of(student) / COURSE / "backprop" / "probe.ipynb", nbformat.writes(notebook))
    page.goto(f"{deployment.url}/user/{student}/lab/tree/{COURSE}/backprop/probe.ipynb")
    wait_for_notebook(page, "probe.ipynb")
    found = json.loads(run_cell(page, "def attempt"))
    page.screenshot(path=ARTIFACTS / "11-student-probes-others-files.png")
    assert found["uid"] == pwd.getpwnam(student).pw_uid
    assert {path: result for path, result in found["attempts"].items() if result != "denied"} == {}
    assert found["submissions found"] == [] and found["autograder"] is None
    page.context.close()


def processes_of_the_hub(hub):
    """(pid, user, command) of every process run by this run's accounts or naming the deployment's folder."""
    names = {INSTRUCTOR, *STUDENTS, GRADER}
    listing = subprocess.run(["ps", "-eo", "pid=,user:32=,args="], capture_output=True, text=True).stdout
    rows = [line.split(None, 2) for line in listing.splitlines() if line.strip()]
    mine = str(os.getpid())
    return [row for row in rows if row[0] != mine and (row[1] in names or str(hub.folder) in row[-1])]


def test_stopping_leaves_no_process_and_a_restart_finds_everyones_work(deployment, browser):
    assert processes_of_the_hub(deployment), "the hub runs before the stop"
    assert deployment.stop() == 0, deployment.log.read_text()[-3000:]
    assert processes_of_the_hub(deployment) == []
    port = int(deployment.url.rpartition(":")[2])
    assert not [port + n for n in range(4) if _listened(port + n)], "something of the hub still listens"

    deployment.start()
    student = STUDENTS[0]
    page = log_in(browser, deployment, student)
    wait_for_notebook(page, "01_chain_rule.ipynb")
    _, submitted = open_assignment_list(page)
    submitted.locator(".list_item", has_text="backprop").first.wait_for(timeout=120 * MS)
    open_in_file_browser(page, "backprop_lib", "gradient_check.py")
    editor = page.locator(".jp-FileEditor .cm-content")
    editor.wait_for(timeout=60 * MS)
    assert "np.ndindex" in editor.inner_text()
    page.screenshot(path=ARTIFACTS / "12-after-a-restart-the-work-is-there.png")
    assert len(list((home_of(student) / COURSE / "backprop" / "feedback").glob("*/*.html"))) == 7
    for other in STUDENTS[1:]:
        assert (home_of(other) / COURSE / "backprop" / "01_chain_rule.ipynb").is_file()
    page.context.close()
