"""One hub deployment: the settings ``hub init`` was given and where each part lives in its folder.

The settings are kept in ``DIR/deployment.json``; the hub's configuration is
generated from them (``autograder.hub.config``), so they are the one source of
it. Ports: the proxy serves ``port`` to browsers; the hub's own API, the
proxy's API, the course's formgrader and the grading service's insights page
listen on loopback at ``port + 1`` to ``port + 4``.
"""

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.course import ASSIGNMENT
from autograder.hub import BadSettings, HubError

SETTINGS_FILE = "deployment.json"
COURSE_ID = re.compile(r"[a-z][a-z0-9-]{0,23}\Z")
AUTHENTICATORS = ("pam", "lti13")
LTI_SETTINGS = ("issuer", "client_id", "authorize_url", "jwks_url", "username_key")


@dataclass
class Deployment:
    """A course on a JupyterHub in the folder ``root``."""

    root: Path
    course_id: str
    instructors: list
    students: list
    port: int = 8000
    ip: str = ""
    db_url: str | None = None
    auth: str = "pam"
    lti: dict = field(default_factory=dict)

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        if not COURSE_ID.match(self.course_id):
            raise BadSettings(
                f"course id {self.course_id!r}: use 1 to 24 lower-case letters, digits and '-', starting with a "
                "letter (it names a Unix account, hub groups and a hub service)"
            )
        if not 0 < self.port < 65532:
            raise BadSettings(f"port {self.port}: choose one from 1 to 65531 (the next four serve the hub itself)")
        if self.auth not in AUTHENTICATORS:
            raise BadSettings(f"authenticator {self.auth!r}: choose one of {', '.join(AUTHENTICATORS)}")
        if self.auth == "lti13":
            missing = [name for name in LTI_SETTINGS if not self.lti.get(name)]
            if missing:
                raise BadSettings(f"--auth lti13 needs {', '.join('--lti-' + n.replace('_', '-') for n in missing)}")
        if not self.instructors:
            raise BadSettings("name at least one instructor (--instructor NAME)")

    @property
    def grader(self):
        """The Unix account that owns the course and runs its formgrader and grading."""
        return f"grader-{self.course_id}"

    @property
    def users(self):
        """Everyone who logs in: the instructors, then the students."""
        return list(dict.fromkeys([*self.instructors, *self.students]))

    @property
    def settings_file(self):
        return self.root / SETTINGS_FILE

    @property
    def config_file(self):
        return self.root / "jupyterhub_config.py"

    @property
    def passwords_file(self):
        return self.root / "passwords.txt"

    @property
    def state(self):
        """JupyterHub's own files: database, cookie secret, logs."""
        return self.root / "hub"

    @property
    def course(self):
        return self.root / "course"

    @property
    def exchange(self):
        return self.root / "exchange"

    @property
    def grader_home(self):
        return self.root / "grader"

    @property
    def grader_env(self):
        return self.root / "grader-env"

    @property
    def student_env(self):
        return self.root / "student-env"

    @property
    def workspace(self):
        """A student's assignment folder, relative to their home (nbgrader's fetch puts it there)."""
        return Path(self.course_id) / ASSIGNMENT

    @property
    def url(self):
        return f"http://{self.ip or '127.0.0.1'}:{self.port}"

    @property
    def hub_port(self):
        return self.port + 1

    @property
    def proxy_api_port(self):
        return self.port + 2

    @property
    def formgrader_port(self):
        return self.port + 3

    @property
    def pages_port(self):
        return self.port + 4

    def save(self):
        settings = {key: value for key, value in asdict(self).items() if key != "root"}
        self.settings_file.write_text(json.dumps(settings, indent=2) + "\n")
        self.settings_file.chmod(0o600)


def load(root):
    """The deployment ``hub init`` made in ``root``; HubError if there is none."""
    path = Path(root).resolve() / SETTINGS_FILE
    try:
        settings = json.loads(path.read_text())
    except FileNotFoundError:
        raise BadSettings(f"no hub in {Path(root).resolve()}: make one with `backprop-kit hub init {root}`") from None
    except (OSError, ValueError) as error:
        raise HubError(f"cannot read {path}: {error}") from None
    return Deployment(root=Path(root), **settings)
