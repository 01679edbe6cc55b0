"""The ``backprop-kit`` command.

    backprop-kit check [EXERCISE ...]    check your exercises (students, self-learners)
    backprop-kit exercises               list the exercises you write and their files
    backprop-kit hint NAME [--level K]   the next rung of an exercise's hint ladder
    backprop-kit workspace DIR           copy the course (notebooks, exercise stubs, kit) into DIR
    backprop-kit workspace --reference DIR   the same on the reference solutions, served read-only (a clone)
    backprop-kit lab [DIR] [OPTIONS]     start JupyterLab in your workspace (made first if missing)
    backprop-kit status [--course ID]    where your last submission stands with the course's grading service

Further commands join through the entry-point group ``backprop_kit.commands``:
each entry point names a function ``add(subparsers)`` that adds its commands.
The autograder adds the TA's commands (``course``, ``demo``) that way, so a
student's environment without the autograder simply has fewer commands.
"""

import argparse
import sys
from importlib.metadata import entry_points

import backprop_lib

COMMAND_GROUP = "backprop_kit.commands"
FOLDER_HELP = (
    "the folder holding your backprop_lib/ (default: the folder you work in: here, or the nearest folder above "
    "that holds a backprop_lib/)"
)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "accepts_unknown", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.unknown = unknown
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return args.run(args) or 0


class Parser(argparse.ArgumentParser):
    """An argument parser (its subcommands' too) that refuses a command line in one line, with exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser(argv=()):
    """The command line; the plugins' commands join unless ``argv`` runs one of the student's own (fast start)."""
    parser = Parser(prog="backprop-kit", description="A course kit that teaches backpropagation.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {backprop_lib.__version__}")
    commands = parser.add_subparsers(title="commands")

    check = commands.add_parser("check", help="check your exercises and print one row per exercise")
    check.add_argument("exercises", nargs="*", help="exercise names (default: all); see `backprop-kit exercises`")
    check.add_argument("--dir", default=None, help=FOLDER_HELP)
    check.set_defaults(run=_check)

    listing = commands.add_parser("exercises", help="list the exercises you write and the files they live in")
    listing.set_defaults(run=_list_exercises)

    ladder = commands.add_parser("hint", help="show the next hint for an exercise (1 a nudge ... 3 the formula)")
    ladder.add_argument("exercise", help="the exercise's name, e.g. relu_backward")
    ladder.add_argument("--level", type=int, default=None, help="show this rung (1 to 3) instead of the next one")
    ladder.add_argument("--dir", default=None, help=FOLDER_HELP)
    ladder.set_defaults(run=_hint)

    workspace = commands.add_parser("workspace", help="copy the course into a folder of your own")
    workspace.add_argument("directory", help="a new or empty folder")
    workspace.add_argument(
        "--reference",
        action="store_true",
        help="make a reference view instead: the notebooks on the reference solutions, served read-only (a clone)",
    )
    workspace.set_defaults(run=_workspace)

    lab = commands.add_parser(
        "lab",
        help="start JupyterLab in your workspace with notebook 01 open",
        description="Start JupyterLab at the workspace's root with notebook 01 open. Further options go to "
        "`jupyter lab` (e.g. --no-browser --port 8890).",
    )
    lab.add_argument(
        "directory",
        nargs="?",
        default=None,
        help="your workspace (default: the one you are in, else ./backprop-workspace)",
    )
    lab.set_defaults(run=_lab, accepts_unknown=True)

    status = commands.add_parser(
        "status", help="where your last submission stands: received, its place in the queue, graded (and the score)"
    )
    status.add_argument("--course", default=None, help="this course only (default: nbgrader's configured course)")
    status.add_argument("--json", action="store_true", help="print it as JSON")
    status.set_defaults(run=_status)

    if not argv or argv[0] not in commands.choices:
        for entry_point in dict.fromkeys(entry_points(group=COMMAND_GROUP)):  # once, if two metadata copies name it
            entry_point.load()(commands)
    return parser


def _check(args):
    from backprop_lib.kit.selfcheck import check

    report = check(*args.exercises, directory=args.dir)
    print(report)
    return 0 if all(r.passed for r in report) else 1


def _hint(args):
    from backprop_lib.kit.hints import hint

    try:
        print(hint(args.exercise, args.level, args.dir))
    except ValueError as problem:
        print(f"backprop-kit hint: {problem}", file=sys.stderr)
        return 2
    return 0


def _list_exercises(args):
    from backprop_lib.kit.exercises import STUDENT_EXERCISES

    width = max(len(name) for name in STUDENT_EXERCISES)
    for name, exercise in STUDENT_EXERCISES.items():
        print(f"{name:<{width}}  {exercise.path:<28}  {exercise.title}")


def _workspace(args):
    from backprop_lib.kit import reference, workspace

    try:
        directory = (reference.create if args.reference else workspace.create)(args.directory)
    except workspace.WorkspaceError as error:
        print(f"backprop-kit workspace: {error}", file=sys.stderr)
        return 1
    kind = "reference view (the reference solutions, read-only)" if args.reference else "workspace"
    print(f"your {kind} is {directory}\nopen it with: backprop-kit lab {args.directory}")
    return 0


def _status(args):
    from backprop_lib.kit.status import report

    print(report(args.course, args.json))
    return 0


def _lab(args):
    from backprop_lib.kit import workspace

    try:
        return workspace.lab(args.directory, args.unknown)
    except workspace.WorkspaceError as error:
        print(f"backprop-kit lab: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
