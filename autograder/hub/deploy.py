"""``backprop-kit hub init DIR``: a whole course on a JupyterHub, written in one step (and again, safely).

In order: the accounts (the grader account, then every instructor and student
that does not exist yet), the two Python environments, the exchange, the course
(built from this kit, then given to the grader account, which releases it and
puts it in the exchange: every file of the course is its own), the
environments' Jupyter configuration, and the hub's configuration. Running it
again adds the roster's new students and writes the configuration again; it
never touches a student's home, a submission or the gradebook.
"""

import os
import stat
import subprocess

from autograder.course import ASSIGNMENT, TA_CONFIG
from autograder.course.build import build
from autograder.hub import BadSettings, HubError, accounts, config, environments

EXCHANGE_MODE = 0o1777  # everyone writes (nbgrader's rule), no one removes what is not theirs


def init(deployment, kit=None, student_kit=None, say=print):
    """Make (or bring up to date) the deployment; returns {account: first password} of the accounts it created."""
    if os.geteuid() != 0:
        raise HubError("hub init runs as root: it creates Unix accounts and the course's grader account")
    d = deployment
    _check_reachable(d.root)
    d.root.mkdir(parents=True, exist_ok=True)
    d.root.chmod(0o755)
    d.state.mkdir(mode=0o700, exist_ok=True)
    d.state.chmod(0o700)
    passwords = _accounts(d, say)
    say("building the students' environment (a few minutes the first time)")
    environments.build_student_env(d.student_env, d.state / "student-env.log", student_kit)
    say("building the grader's environment")
    environments.build_grader_env(d.grader_env, accounts.group_of(d.grader), d.state / "grader-env.log", kit)
    d.exchange.mkdir(exist_ok=True)
    d.exchange.chmod(EXCHANGE_MODE)
    _course(d, say)
    config.write_environment_config(d.student_env, config.render_student_nbgrader_config(d), True)
    config.write_environment_config(d.grader_env)
    d.save()
    d.config_file.write_text(config.render_hub_config(d))
    d.config_file.chmod(0o600)
    if accounts.readable_by_others(environments.KIT_ROOT):
        say(
            f"warning: every account can read the kit at {environments.KIT_ROOT}, hidden tests included: "
            f"`chmod 700 {environments.KIT_ROOT}` (or keep it under /root) hides them from students"
        )
    for name in accounts.open_homes(d.users):
        folder = accounts.home(name)
        say(f"warning: other accounts can read {folder}: `chmod 700 {folder}` keeps it {name}'s alone")
    return passwords


def _check_reachable(root):
    """Every account must reach into ``root`` (students run ``root/student-env``; ``init`` makes ``root`` itself
    0755): refuse a folder under a private one (``/root``, a home of mode 0700) before anything is written."""
    for folder in [path for path in root.parents if path.exists()]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            raise BadSettings(
                f"{root} lies in {folder} (mode {folder.stat().st_mode & 0o777:o}), which students "
                "cannot enter: choose a folder such as /srv/backprop"
            )


def _accounts(d, say):
    """The grader account, then each person's; each first password is in passwords.txt before the next account."""
    accounts.ensure_grader(d.grader, d.grader_home)
    passwords = {}
    for name in d.users:
        first = accounts.ensure_person(name, password=d.auth == "pam")
        if first:
            passwords[name] = first
            _note_password(d.passwords_file, name, first)
    if passwords:
        say(f"created {len(passwords)} account(s): {', '.join(passwords)}")
    return passwords


def _course(d, say):
    """Build the course from this kit (the hidden tests' reference values need its reference solutions), give
    it to the grader account, which releases it and puts the assignment in the exchange."""
    d.course.mkdir(mode=0o700, exist_ok=True)
    d.course.chmod(0o700)
    build(d.course, db_url=d.db_url, course_id=d.course_id)
    _name_exchange(d.course / TA_CONFIG, d.exchange)
    _give(d.course, *accounts.ids(d.grader))
    as_grader(d, "backprop-kit", "course", "release", "-C", str(d.course))
    as_grader(d, "nbgrader", "release_assignment", ASSIGNMENT, "--force")
    say(f"course {d.course_id} built and released in {d.course}")


def _give(folder, uid, gid):
    """Make ``folder`` and everything in it belong to ``uid``:``gid`` (links themselves, never their targets)."""
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)


def as_grader(d, program, *args):
    """Run the grader environment's ``program`` as the grader account in the course folder."""
    uid, gid = accounts.ids(d.grader)
    command = [str(d.grader_env / "bin" / program), *args]
    env = {
        "HOME": str(d.grader_home),
        "USER": d.grader,
        "PATH": f"{d.grader_env / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    owner = {"user": uid, "group": gid, "extra_groups": [], "umask": 0o022}  # the course folder (0700) keeps it private
    done = subprocess.run(command, cwd=d.course, env=env, capture_output=True, text=True, **owner)
    if done.returncode:
        raise HubError(f"`{' '.join(command)}` as {d.grader} failed:\n{done.stderr.strip() or done.stdout.strip()}")
    return done


def _name_exchange(ta_config, exchange):
    """Point the course at the hub's exchange in the TA's ``course_config.py`` (once; the TA's lines stay)."""
    line = f"c.Exchange.root = {str(exchange)!r}"
    text = ta_config.read_text()
    if line not in text:
        ta_config.write_text(f"{text.rstrip()}\n\n# The hub's exchange (written by `backprop-kit hub init`).\n{line}\n")


def _note_password(path, name, password):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as file:
        file.write(f"{name} {password}\n")
