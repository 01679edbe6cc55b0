"""A course on a JupyterHub on one machine: ``backprop-kit hub init DIR`` writes it, ``hub start DIR`` runs it.

    DIR/deployment.json      the settings ``hub init`` was given: the one source of the hub's configuration
    DIR/jupyterhub_config.py generated from deployment.json (JupyterHub, proxy, spawner, groups, services)
    DIR/passwords.txt        first passwords of the accounts ``hub init`` created (root only)
    DIR/hub/                 JupyterHub's state: its database, cookie secret, logs (root only)
    DIR/course/              the nbgrader course, owned by the grader account grader-<course> (no one else)
    DIR/exchange/            nbgrader's exchange; exchange/<course>/ is the grader account's
    DIR/grader/              the grader account's home
    DIR/grader-env/          the grader's Python: the whole kit, JupyterHub (the grader account and root only)
    DIR/student-env/         the students' Python: JupyterLab, nbgrader, the student's kit, no hidden test

Modules: ``deployment`` (the settings and where each part lives), ``accounts`` (Unix
accounts), ``environments`` (the two Python environments), ``config`` (the
generated jupyterhub_config.py), ``spawn`` (what the hub does as a student's
server starts), ``deploy`` (``hub init``), ``run`` (``hub start``). docs/hub.md
tells the story.
"""


class HubError(Exception):
    """A deployment cannot be made or run; the message says why and what to do."""


class BadSettings(HubError):
    """The command line or the roster asks for something that cannot be (a usage error)."""
