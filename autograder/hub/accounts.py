"""Unix accounts: every person who logs in to the hub is one, and so is the course's grader.

JupyterHub's local process spawner starts each person's server as their own
account, and nbgrader takes the student id from the account's name. Accounts
that exist are used as they are (their passwords, their homes); new ones get a
home only they can read, and a first password when they log in with one (PAM).
"""

import grp
import os
import pwd
import re
import secrets
import stat
import subprocess
from pathlib import Path

from autograder.hub import BadSettings, HubError

USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}\Z")


def check_user_name(name, where):
    """``name`` if it can be a Unix account's name (Debian's rule); BadSettings naming ``where`` otherwise."""
    if not USER_NAME.match(name):
        raise BadSettings(
            f"{where}: {name!r} cannot be a Unix account's name (1 to 32 lower-case letters, digits, '_' or '-', "
            "starting with a letter or '_')"
        )
    return name


def read_roster(path):
    """The account names in a roster file: one per line, blank lines and ``#`` comments ignored."""
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise BadSettings(f"cannot read the roster {path}: {error}") from None
    names = [line.split("#", 1)[0].strip() for line in lines]
    return list(dict.fromkeys(check_user_name(name, f"roster {path}") for name in names if name))


def exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def ids(name):
    """(uid, gid) of an account."""
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def home(name):
    return Path(pwd.getpwnam(name).pw_dir)


def ensure_person(name, password=True):
    """Create the account ``name`` if it does not exist, its home readable by it alone.

    Returns the first password given to a new account (``password``), or None
    (an account that existed, or one that logs in some other way, e.g. LTI).
    """
    if exists(name):
        return None
    _run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", name])
    home(name).chmod(0o700)
    if not password:
        return None
    first = secrets.token_urlsafe(12)
    _run(["chpasswd"], input=f"{name}:{first}\n")
    return first


def ensure_grader(name, home_dir):
    """The grader account (a system account that cannot log in with a password) with its home ``home_dir``."""
    if not exists(name):
        _run(["useradd", "--system", "--user-group", "--shell", "/bin/bash", "--home-dir", str(home_dir), name])
    uid, gid = ids(name)
    Path(home_dir).mkdir(mode=0o700, exist_ok=True)
    os.chown(home_dir, uid, gid)
    Path(home_dir).chmod(0o700)


def group_of(name):
    return grp.getgrgid(ids(name)[1]).gr_name


def open_homes(names):
    """The accounts among ``names`` whose home other users can read or enter."""
    return [name for name in names if exists(name) and readable_by_others(home(name))]


def readable_by_others(folder):
    """Whether an account that is neither its owner nor in its group can reach into ``folder``."""
    for path in [Path(folder), *Path(folder).parents]:
        if not path.stat().st_mode & stat.S_IXOTH:
            return False
    return bool(Path(folder).stat().st_mode & stat.S_IROTH)


def _run(argv, input=None):
    result = subprocess.run(argv, input=input, capture_output=True, text=True)
    if result.returncode:
        raise HubError(f"{' '.join(argv[:1] + argv[-1:])} failed: {result.stderr.strip() or result.stdout.strip()}")
