"""The TA's commands, added to ``backprop-kit`` by ``add_commands``.

    backprop-kit course build DIR [--db URL] [--course-id ID]   the nbgrader course, generated from the kit
    backprop-kit course release [-C DIR]          release/backprop for students (nbgrader generate_assignment)
    backprop-kit course samples [-C DIR] [NAME]   sample submissions into submitted/
    backprop-kit course grade [-C DIR]            autograde + integrity verification, then the tables
                 [--force] [--shard I/N] [--scheduler tcp://HOST:PORT]
    backprop-kit course verify [-C DIR]           the integrity verification alone
    backprop-kit course report [-C DIR]           the grades the gradebook holds (tables, or --json)
    backprop-kit course feedback [-C DIR]         feedback/<student>/backprop/*.html
    backprop-kit course export [-C DIR] [--format generic|canvas|moodle]   the grades for an LMS
    backprop-kit course insights [-C DIR] [--json] [--names]   what the class got wrong: a page for the lecturer
    backprop-kit course serve [-C DIR] [--jobs N] [--scheduler URL]   grade each submission as it arrives
    backprop-kit demo [DIR]                       all of the above on sample submissions
    backprop-kit hub init DIR [--course-id ID] --instructor NAME [--roster FILE] [--port N]
                                                  a course on a JupyterHub on this machine (docs/hub.md)
    backprop-kit hub start DIR                    run it in the foreground until Ctrl-C

Every step can run alone and again; ``-C`` defaults to the current directory.
A mistake on the command line (an unknown student, ``--jobs 0``, a folder that
is not a course) is refused with one clear line and exit code 2, before
anything is written. ``--json`` prints the grades for scripts; ``-q``/``-v``
set the logging level of the messages on stderr.
"""

import argparse
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("backprop_kit")
USAGE_ERROR = 2
DEFAULT_JOBS = 2


class UsageError(Exception):
    """The command line asks for something that cannot be: exit code 2."""


def add_commands(subparsers):
    """Add ``course`` and ``demo`` to the ``backprop-kit`` argument parser."""
    from autograder.course import COURSE_ID
    from autograder.course.build import CELL_TIMEOUT
    from autograder.gradebook.lock import WAIT_SECONDS
    from autograder.grading.batch import NOTEBOOK_SECONDS
    from autograder.reports.exporters import FORMATS
    from autograder.reports.insights import PAGE as INSIGHTS_PAGE
    from autograder.reports.insights import TEACH_AGAIN

    formatter = _Help
    common = argparse.ArgumentParser(add_help=False)
    levels = common.add_mutually_exclusive_group()
    levels.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    levels.add_argument("-v", "--verbose", action="store_true", help="debugging messages on stderr too")
    in_course = argparse.ArgumentParser(add_help=False, parents=[common])
    in_course.add_argument("-C", "--course", default=".", help="the course folder")
    choose = argparse.ArgumentParser(add_help=False)
    choose.add_argument(
        "--student", action="append", default=[], type=_student_id, help="only this student (repeatable)"
    )
    choose.add_argument("--students-file", type=Path, default=None, help="only the students listed, one per line")
    scripts = argparse.ArgumentParser(add_help=False)
    scripts.add_argument("--json", action="store_true", help="print the grades as JSON instead of tables")
    jobs = argparse.ArgumentParser(add_help=False)
    jobs.add_argument("--jobs", type=positive(int), default=DEFAULT_JOBS, help="students graded at once")
    waits = argparse.ArgumentParser(add_help=False)
    waits.add_argument(
        "--wait", type=positive(float), default=WAIT_SECONDS, metavar="S",
        help="seconds to wait for a student another grading holds before leaving it to that grading",
    )  # fmt: skip

    course = subparsers.add_parser("course", help="build and grade the nbgrader course (for TAs)")
    steps = course.add_subparsers(title="steps", metavar="STEP")
    course.set_defaults(run=lambda args: course.print_help() or USAGE_ERROR)

    def step(name, run, text, *parents):
        parser = steps.add_parser(name, help=text, description=text, parents=list(parents), formatter_class=formatter)
        parser.set_defaults(run=_clear_errors(run))
        return parser

    build = step("build", _build, "write the course folder from the kit", common)
    build.add_argument("dir", help="the course folder to create or update")
    build.add_argument("--db", default=None, help="gradebook SQLAlchemy URL (default: sqlite gradebook.db in DIR)")
    build.add_argument("--cell-timeout", type=positive(int), default=CELL_TIMEOUT, help="seconds per notebook cell")
    build.add_argument(
        "--course-id", default=None, help=f"the course id for a new course_config.py (default: {COURSE_ID})"
    )
    step("release", _release, "write release/backprop, the version students get", in_course)
    samples = step("samples", _samples, "write sample submissions into submitted/", in_course)
    samples.add_argument("names", nargs="*", help="which samples (default: all)")
    grade = step(
        "grade", _grade, "autograde every submission (or --student) and verify it", in_course, choose, jobs, waits
    )
    grade.add_argument(
        "--notebook-seconds", type=positive(float), default=NOTEBOOK_SECONDS, help="time limit per notebook"
    )
    grade.add_argument("--json", action="store_true", help="print the grades as JSON instead of tables")
    grade.add_argument("--force", action="store_true", help="grade again even if nothing changed")
    grade.add_argument("--shard", default=None, metavar="I/N", help="only slice I of N (0 <= I < N)")
    grade.add_argument("--scheduler", default=None, metavar="URL", help="grade on this Dask cluster (tcp://HOST:PORT)")
    step("verify", _verify, "run the integrity verification again", in_course, choose, jobs, waits, scripts)
    step("report", _report, "show the grades the gradebook holds (tables, or --json)", in_course, choose, scripts)
    step("feedback", _feedback, "write every graded student's feedback pages", in_course, choose)
    export = step("export", _export, "write the grades for an LMS and the JSON records", in_course, scripts)
    export.add_argument("--format", choices=sorted(FORMATS), default="generic", help="the file's format")
    export.add_argument("--to", type=Path, default=None, help="the file (default: COURSE/<format's file name>)")
    insights = step("insights", _insights, "what the class got wrong: a page for the lecturer", in_course)
    insights.add_argument("--json", action="store_true", help="the numbers as JSON (on stdout unless --to)")
    insights.add_argument("--names", action="store_true", help="name the students in each count (for TAs)")
    insights.add_argument("--to", type=Path, default=None, help=f"the file (default: COURSE/{INSIGHTS_PAGE})")
    insights.add_argument(
        "--threshold", type=share, default=TEACH_AGAIN, help="teach again the mistakes of at least this share"
    )
    serve = step(
        "serve", _serve, "grade each submission as it arrives in nbgrader's exchange and release its feedback",
        in_course,
    )  # fmt: skip
    serve.add_argument(
        "--jobs", type=positive(int), default=2 * (os.cpu_count() or 1),
        help="gradings at once (two per core: a grading waits for its kernels about half of its time)",
    )  # fmt: skip
    serve.add_argument(
        "--notebook-seconds", type=positive(float), default=NOTEBOOK_SECONDS, help="time limit per notebook"
    )
    serve.add_argument("--scheduler", default=None, metavar="URL", help="grade on this Dask cluster (tcp://HOST:PORT)")
    serve.add_argument(
        "--pages-port", type=positive(int), default=None, metavar="PORT",
        help="as a JupyterHub service: serve the class insights page to the instructors on this loopback port",
    )  # fmt: skip

    demo = subparsers.add_parser(
        "demo", help="build a course, grade sample submissions, show the results", parents=[common],
        formatter_class=formatter,
    )  # fmt: skip
    demo.add_argument("dir", nargs="?", default="backprop-kit-demo", help="working folder")
    demo.add_argument("--jobs", type=positive(int), default=DEFAULT_JOBS, help="students graded at once")
    demo.add_argument("--samples", nargs="+", default=None, help="which sample submissions (default: a mix)")
    demo.set_defaults(run=_clear_errors(_demo))
    _add_hub_commands(subparsers, common, formatter)


def _add_hub_commands(subparsers, common, formatter):
    """``backprop-kit hub init / start`` (autograder.hub)."""
    from autograder.course import COURSE_ID

    hub = subparsers.add_parser("hub", help="a course on a JupyterHub on this machine (as root)")
    hub.set_defaults(run=lambda args: hub.print_help() or USAGE_ERROR)
    steps = hub.add_subparsers(title="steps", metavar="STEP")
    init = steps.add_parser(
        "init", help="write the deployment into DIR", parents=[common], formatter_class=formatter,
        description="Write a JupyterHub deployment of the course into DIR: accounts, environments, the course built "
        "and released, nbgrader's exchange, formgrader for the instructors. Safe to run again (new roster students).",
    )  # fmt: skip
    init.add_argument("dir", help="the deployment's folder")
    init.add_argument("--course-id", default=COURSE_ID, help="the course id (names groups, the grader account)")
    init.add_argument("--instructor", action="append", default=[], help="an instructor's account (repeatable)")
    init.add_argument("--roster", type=Path, default=None, help="the students' accounts, one per line")
    init.add_argument("--port", type=positive(int), default=8000, help="the hub's port (the next four are used too)")
    init.add_argument("--ip", default="", help="the address browsers reach ('': every interface)")
    init.add_argument("--db", default=None, help="gradebook SQLAlchemy URL (None: sqlite in the course)")
    init.add_argument("--kit", default=None, help="the kit pip installs for the grader (None: this checkout)")
    init.add_argument(
        "--student-kit", default=None, help="the student's kit pip installs for students (None: this checkout's)"
    )
    init.add_argument("--auth", choices=["pam", "lti13"], default="pam", help="how people log in")
    for name, text in (
        ("issuer", "the LMS's issuer URL"),
        ("client-id", "the tool's client id in the LMS"),
        ("authorize-url", "the LMS's OIDC authorization URL"),
        ("jwks-url", "the LMS's key set URL"),
    ):
        init.add_argument(f"--lti-{name}", default=None, help=f"--auth lti13: {text}")
    init.add_argument(
        "--lti-username-key", default="custom_username", help="--auth lti13: the launch claim naming the account"
    )
    init.set_defaults(run=_clear_errors(_hub_init))
    start = steps.add_parser("start", help="run the hub in the foreground (Ctrl-C stops it)", parents=[common])
    start.add_argument("dir", help="the deployment's folder")
    start.set_defaults(run=_clear_errors(_hub_start))


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's help with its default, when it has one the help does not already state."""

    def _get_help_string(self, action):
        if action.default in (None, False, []) or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def positive(kind):
    """An argparse type: a number of ``kind`` greater than 0."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
        return value

    parse.__name__ = kind.__name__
    return parse


def share(text):
    """An argparse type: a share of the class, a number in (0, 1]."""
    value = positive(float)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} is a share of the class: at most 1 (0.1 is 10%)")
    return value


def _clear_errors(run):
    """A command that reports the kit's own errors in one line: exit 2 for a usage error, 1 otherwise."""

    def command(args):
        from autograder.course import BuildError
        from autograder.course.samples import SampleError
        from autograder.hub import BadSettings, HubError
        from autograder.sandbox.box import Unavailable

        level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
        logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
        try:
            return run(args)
        except (UsageError, SampleError, BadSettings) as error:
            print(f"backprop-kit: {error}", file=sys.stderr)
            return USAGE_ERROR
        except (BuildError, Unavailable, HubError) as error:
            print(f"backprop-kit: {error}", file=sys.stderr)
            return 1

    return command


def _open(args):
    """The course of ``-C``; a usage error if the folder holds none, or if root is asked to work in a course
    another account owns (a hub's grader account: files root made there would be files it cannot change)."""
    import os
    import pwd

    from autograder.course import BuildError, open_course

    try:
        course = open_course(args.course)
    except BuildError as error:
        raise UsageError(str(error)) from None
    owner = course.root.stat().st_uid
    if os.geteuid() == 0 and owner != 0:
        name = pwd.getpwuid(owner).pw_name
        raise UsageError(f"{course.root} belongs to {name}: run the course's commands as {name} (runuser -u {name} --)")
    return course


def _students(args, known, where):
    """The students named by --student and --students-file (None: all), each one of ``known``."""
    named = list(args.student)
    if args.students_file:
        try:
            lines = args.students_file.read_text().splitlines()
        except OSError as error:
            raise UsageError(f"cannot read --students-file: {error}") from None
        named += [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not named:
        return None
    from autograder.course.names import BadName, check_student_id

    try:
        named = [check_student_id(student) for student in named]
    except BadName as error:
        raise UsageError(str(error)) from None
    unknown = [student for student in dict.fromkeys(named) if student not in known]
    if unknown:
        raise UsageError(f"unknown student{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))}: not in {where}")
    return list(dict.fromkeys(named))


def _build(args):
    from autograder.course.build import build

    course = build(args.dir, db_url=args.db, cell_timeout=args.cell_timeout, course_id=args.course_id)
    log.info(f"course written to {course.root}; next: backprop-kit course release -C {args.dir}")


def _release(args):
    from autograder.course.release import release

    log.info(f"students get {release(_open(args))}")


def _samples(args):
    from autograder.course import samples

    course = _open(args)
    folders = samples.make(course, args.names or samples.sample_names())
    log.info(f"{len(folders)} sample submissions in {course.root / 'submitted'}")


def _grade(args):
    from autograder.grading import batch as grading
    from autograder.reports.tables import show

    course = _open(args)
    try:
        shard = grading.parse_shard(args.shard) if args.shard else None
    except ValueError as error:
        raise UsageError(str(error)) from None
    submitted = grading.submitted_students(course)
    students, refused = _usable(_students(args, set(submitted), f"{course.root / 'submitted'}") or submitted)
    if not students:
        log.error(f"nothing to grade: no usable submissions in {course.root / 'submitted'}")
        return 1
    options = {"notebook_seconds": args.notebook_seconds, "force": args.force, "shard": shard, "wait": args.wait}
    if args.scheduler:
        from autograder.grading import distributed

        try:
            graded = distributed.grade(course, args.scheduler, students, **options, by="course grade")
        except distributed.Unsuitable as error:
            raise UsageError(str(error)) from None
        except distributed.ClusterError as error:
            log.error(f"backprop-kit: {error}")
            return 1
    else:
        graded = grading.grade(course, students, args.jobs, **options, by="course grade")
    show(course, list(graded), args.json)
    return USAGE_ERROR if refused else None


def _verify(args):
    from autograder.gradebook import store
    from autograder.grading import batch as grading
    from autograder.reports.tables import show

    course = _open(args)
    known = set(store.load_all(course)) | set(grading.submitted_students(course))
    students = _students(args, known, "the gradebook or submitted/")
    show(course, list(grading.verify_again(course, students, args.jobs, wait=args.wait)), args.json)


def _report(args):
    from autograder.gradebook import store
    from autograder.reports.tables import show

    course = _open(args)
    students = _students(args, set(store.load_all(course)), "the students the kit has graded")
    show(course, students, args.json)


def _feedback(args):
    from autograder.gradebook import store
    from autograder.reports import feedback

    course = _open(args)
    students = _students(args, set(store.load_all(course)), "the students the kit has graded")
    folders = feedback.generate(course, students)
    log.info(f"feedback for {len(folders)} students in {course.root / 'feedback'}")


def _export(args):
    from autograder.gradebook import store
    from autograder.reports import exporters
    from autograder.reports import scores as report
    from autograder.reports.tables import show

    course = _open(args)
    if args.to and args.to.name == "grades.csv":
        raise UsageError("grades.csv is nbgrader's own export file (nbgrader export): choose another --to")
    path = exporters.export(course, args.format, args.to)
    store.export_json(course)
    scores = report.collect(course)
    show(course, None, args.json, scores)
    log.info(f"{args.format} grades: {path}; the grading records: {course.reports}/*.json")


def _insights(args):
    import json

    from autograder.reports import insights

    course = _open(args)
    if args.to and (args.to.is_dir() or not args.to.parent.is_dir()):
        raise UsageError(f"--to {args.to}: " + ("a folder, not a file" if args.to.is_dir() else "no such folder"))
    found = insights.collect(course, args.names, args.threshold)
    if args.json:
        text = json.dumps(found, indent=1) + "\n"
    else:
        from autograder.reports.insights_page import render

        text = render(found)
    if args.json and not args.to:
        sys.stdout.write(text)
        return None
    path = args.to or course.root / insights.PAGE
    path.write_text(text, encoding="utf-8")
    log.info(f"insights on {found['students']} students: {path}")
    return None


def _serve(args):
    from autograder.gradebook.lock import Busy
    from autograder.service.server import serve

    if args.pages_port and "JUPYTERHUB_API_TOKEN" not in os.environ:
        raise UsageError(
            "--pages-port serves the insights page as a JupyterHub service (hub init configures it); "
            "elsewhere, write the page with `course insights`"
        )
    course = _open(args)
    if args.scheduler and course.db_url.startswith("sqlite"):
        raise UsageError(
            "--scheduler needs a gradebook every worker can reach, and this course uses a sqlite file: "
            "build it with --db postgresql+psycopg2://USER@HOST:PORT/DB"
        )
    try:
        return serve(course, args.scheduler, args.jobs, args.notebook_seconds, args.pages_port)
    except Busy as busy:
        raise UsageError(str(busy)) from None


def _demo(args):
    from autograder.course import samples
    from autograder.demo import run_demo

    samples.check_names(args.samples or [])
    return run_demo(args.dir, jobs=args.jobs, names=args.samples)


def _hub_init(args):
    from autograder.hub import accounts, deploy
    from autograder.hub.deployment import Deployment

    lti = {key: getattr(args, f"lti_{key}") for key in ("issuer", "client_id", "authorize_url", "jwks_url")}
    deployment = Deployment(
        root=Path(args.dir),
        course_id=args.course_id,
        instructors=[accounts.check_user_name(name, "--instructor") for name in dict.fromkeys(args.instructor)],
        students=accounts.read_roster(args.roster) if args.roster else [],
        port=args.port,
        ip=args.ip,
        db_url=args.db,
        auth=args.auth,
        lti={**lti, "username_key": args.lti_username_key} if args.auth == "lti13" else {},
    )
    deploy.init(deployment, kit=args.kit, student_kit=args.student_kit, say=log.info)
    log.info(f"ready: backprop-kit hub start {args.dir}   (then open {deployment.url})")
    if deployment.passwords_file.exists():
        log.info(f"first passwords of the accounts created: {deployment.passwords_file} (root only)")


def _hub_start(args):
    from autograder.hub import deployment, run

    return run.start(deployment.load(args.dir), say=log.info)


def _student_id(text):
    """An argparse type: a usable student id (``autograder.names``), or the reason it is refused."""
    from autograder.course.names import BadName, check_student_id

    try:
        return check_student_id(text)
    except BadName as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _usable(students):
    """(the usable ids, the refused ones), each refused one reported on stderr."""
    from autograder.course.names import BadName, check_student_id

    usable, refused = [], []
    for student in students:
        try:
            usable.append(check_student_id(student))
        except BadName as error:
            refused.append(student)
            log.error(f"backprop-kit: not graded: {error}")
    return usable, refused
