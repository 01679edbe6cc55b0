"""The TA's commands, added to ``backprop-kit`` by ``add_commands``.

    backprop-kit course build DIR [--db URL]     the nbgrader course, generated from the repository
    backprop-kit course release [-C DIR]         release/backprop for students (nbgrader generate_assignment)
    backprop-kit course samples [-C DIR] [NAME]  sample submissions into submitted/ (needs a checkout)
    backprop-kit course grade [-C DIR]           autograde + integrity verification, then the tables
                 [--force] [--shard I/N] [--scheduler tcp://HOST:PORT]
    backprop-kit course verify [-C DIR]          the integrity verification alone
    backprop-kit course feedback [-C DIR]        feedback/<student>/backprop/*.html
    backprop-kit course export [-C DIR] [--csv]  the tables and a CSV with per-exercise scores
    backprop-kit demo [DIR]                      all of the above on sample submissions

Every step can run alone and again; ``-C`` defaults to the current directory.
"""

import argparse
import sys
from pathlib import Path


def add_commands(subparsers):
    """Add ``course`` and ``demo`` to the ``backprop-kit`` argument parser."""
    course = subparsers.add_parser("course", help="build and grade the nbgrader course (for TAs)")
    steps = course.add_subparsers(title="steps", metavar="STEP")
    course.set_defaults(run=lambda args: course.print_help() or 2)

    build = steps.add_parser("build", help="write the course folder from the repository")
    build.add_argument("dir", help="the course folder to create or update")
    build.add_argument("--db", default=None, help="gradebook SQLAlchemy URL (default: sqlite gradebook.db in DIR)")
    build.add_argument("--cell-timeout", type=int, default=None, help="seconds per notebook cell (default: 30)")
    build.set_defaults(run=_clear_errors(_build))

    for name, run, text in (
        ("release", _release, "write release/backprop, the version students get"),
        ("samples", _samples, "write sample submissions into submitted/"),
        ("grade", _grade, "autograde every submission (or --student) and verify its library"),
        ("verify", _verify, "run the integrity verification again"),
        ("feedback", _feedback, "write every graded student's feedback"),
        ("export", _export, "print the score tables and write the CSV"),
    ):
        step = steps.add_parser(name, help=text)
        step.add_argument("-C", "--course", default=".", help="the course folder (default: here)")
        step.set_defaults(run=_clear_errors(run))
        if name in ("grade", "verify", "feedback"):
            step.add_argument("--student", action="append", type=_student_id, help="only this student (repeatable)")
        if name in ("grade", "verify"):
            step.add_argument("--jobs", type=int, default=None, help="students graded at once (default: 2)")
        if name == "grade":
            step.add_argument("--notebook-seconds", type=float, default=None, help="time limit per notebook")
            step.add_argument("--force", action="store_true", help="grade again even if nothing changed")
            step.add_argument("--shard", default=None, metavar="I/N", help="only slice I of N (0 <= I < N)")
            step.add_argument("--scheduler", default=None, metavar="URL", help="grade on this Dask cluster")
        if name == "samples":
            step.add_argument("names", nargs="*", help="which samples (default: all)")
        if name == "export":
            step.add_argument("--csv", default=None, help="where to write the CSV (default: COURSE/grades.csv)")

    demo = subparsers.add_parser("demo", help="build a course, grade sample submissions, show the results")
    demo.add_argument("dir", nargs="?", default="backprop-kit-demo", help="working folder (default: %(default)s)")
    demo.add_argument("--jobs", type=int, default=None, help="students graded at once (default: 2)")
    demo.add_argument("--samples", nargs="+", default=None, help="which sample submissions (default: a mix)")
    demo.set_defaults(run=_clear_errors(_demo))


def _clear_errors(run):
    """A command that reports the kit's own errors (no course, no release, bad input) in one line."""

    def command(args):
        from autograder.box import Unavailable
        from autograder.course import BuildError
        from autograder.samples import SampleError

        try:
            return run(args)
        except (BuildError, SampleError, Unavailable) as error:
            print(f"backprop-kit: {error}", file=sys.stderr)
            return 1

    return command


def _build(args):
    from autograder.course import CELL_TIMEOUT, build

    course = build(args.dir, db_url=args.db, cell_timeout=args.cell_timeout or CELL_TIMEOUT)
    print(f"course written to {course.root}; next: backprop-kit course release -C {args.dir}")


def _release(args):
    from autograder.course import open_course, release

    print(f"students get {release(open_course(args.course))}")


def _samples(args):
    from autograder import samples
    from autograder.course import open_course

    folders = samples.make(open_course(args.course), args.names or samples.sample_names())
    print(f"{len(folders)} sample submissions in {Path(args.course).resolve() / 'submitted'}")


def _grade(args):
    from autograder import grading
    from autograder.course import open_course

    course = open_course(args.course)
    try:
        shard = grading.parse_shard(args.shard) if args.shard else None
    except ValueError as error:
        print(f"backprop-kit: {error}", file=sys.stderr)
        return 2
    students, refused = _usable(args.student or grading.submitted_students(course))
    if not students:
        print(f"nothing to grade: no usable submissions in {course.root / 'submitted'}")
        return 1
    options = {"notebook_seconds": args.notebook_seconds} if args.notebook_seconds else {}
    options |= {"force": args.force, "shard": shard}
    if args.scheduler:
        from autograder import distributed

        try:
            graded = distributed.grade(course, args.scheduler, students, **options)
        except distributed.ClusterError as error:
            print(f"backprop-kit: {error}", file=sys.stderr)
            return 1
    else:
        graded = grading.grade(course, students, args.jobs, **options)
    print_tables(course, list(graded))
    return 2 if refused else None


def _verify(args):
    from autograder import grading
    from autograder.course import open_course

    course = open_course(args.course)
    print_tables(course, list(grading.verify_again(course, args.student, args.jobs)))


def _feedback(args):
    from autograder import feedback
    from autograder.course import open_course

    course = open_course(args.course)
    folders = feedback.generate(course, args.student)
    print(f"feedback for {len(folders)} students in {course.root / 'feedback'}")


def _export(args):
    from autograder import report
    from autograder.course import open_course

    course = open_course(args.course)
    scores = report.collect(course)
    path = report.write_csv(Path(args.csv or course.root / "grades.csv"), scores, report.grade_cells(course))
    print_tables(course, None, scores)
    print(f"\nCSV: {path}")


def _demo(args):
    from autograder.demo import DEMO_SAMPLES, run_demo

    return run_demo(args.dir, jobs=args.jobs, names=tuple(args.samples or DEMO_SAMPLES))


def _student_id(text):
    """An argparse type: a usable student id (``autograder.names``), or the reason it is refused."""
    from autograder.names import BadName, check_student_id

    try:
        return check_student_id(text)
    except BadName as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _usable(students):
    """(the usable ids, the refused ones), each refused one reported on stderr."""
    from autograder.names import BadName, check_student_id

    usable, refused = [], []
    for student in students:
        try:
            usable.append(check_student_id(student))
        except BadName as error:
            refused.append(student)
            print(f"backprop-kit: not graded: {error}", file=sys.stderr)
    return usable, refused


def print_tables(course, students, scores=None):
    """The per-student and per-exercise tables of the given students."""
    from autograder import report

    cells = report.grade_cells(course)
    scores = scores if scores is not None else report.collect(course, students)
    print("\n" + report.student_table(scores, cells))
    print("\n" + report.exercise_table(scores, cells))
    sys.stdout.flush()
