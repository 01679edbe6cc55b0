"""The generated ``jupyterhub_config.py``, and the Jupyter configuration of the two environments.

Everything here is rendered from a ``Deployment`` (``DIR/deployment.json``):
``hub init`` writes it again each time it runs, so change a setting with
``hub init``, not by editing the files. The course's services are listed in
``services``: the formgrader, and the grading service (grading on submission,
with the class insights page for the instructors).
"""

import json
import pprint
from pathlib import Path

from autograder.course import ASSIGNMENT
from autograder.hub.deployment import SETTINGS_FILE
from backprop_lib.kit.workspace import FIRST_NOTEBOOK, INSTRUCTOR_LAB_PLUGINS, INSTRUCTOR_SERVER_EXTENSIONS

SERVER_SCOPES = ["users:activity!user", "access:servers!server", "read:users:name!user", "read:users:groups!user"]
"""What a student's server may do with its token: nbgrader's JupyterHubAuthPlugin reads its user's groups."""

INSTRUCTOR_PLUGINS = tuple(plugin for plugin in INSTRUCTOR_LAB_PLUGINS if plugin != "@jupyter/nbgrader:menu")
"""nbgrader's JupyterLab plugins students do not get; the Nbgrader menu stays: it shows the Assignment List alone."""

QUIET_LAB = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
"""JupyterLab settings for everyone: no news or update toasts over the notebook."""


def groups(deployment):
    """The hub groups nbgrader reads: ``nbgrader-<course>`` (who takes the course: the students, and the
    instructors, who see what students see), ``formgrade-<course>`` (who reaches its formgrader)."""
    return {
        f"nbgrader-{deployment.course_id}": {"users": deployment.users},
        f"formgrade-{deployment.course_id}": {"users": list(deployment.instructors)},
    }


def roles(deployment):
    """Instructors reach the course's formgrader and grading service (its insights page); a student's server may read
    its own user's groups."""
    course = deployment.course_id
    return [
        {
            "name": f"formgrade-{course}",
            "groups": [f"formgrade-{course}"],
            "scopes": [
                f"access:services!service={course}",
                f"access:services!service={grading_service(deployment)}",
                "list:services",
                f"read:services!service={course}",
                f"read:services!service={grading_service(deployment)}",
            ],
        },
        {"name": "server", "scopes": SERVER_SCOPES},
    ]


def grading_service(deployment):
    """The name of the course's grading service."""
    return f"grading-{deployment.course_id}"


def services(deployment):
    """The course's hub services, each run by the hub as the grader account in the course folder.

    The formgrader: a single-user server of the grader's environment, opened in a tab of its own
    (JupyterHub's Content-Security-Policy keeps it out of JupyterLab's frames). The grading service
    (``backprop-kit course serve``): each submission graded as it arrives, its feedback released, and the class
    insights page served to the instructors, drawn again as gradings arrive.
    """
    grader_bin = deployment.grader_env / "bin"
    environment = {"PATH": f"{grader_bin}:/usr/local/bin:/usr/bin:/bin"}
    serve = [str(grader_bin / "backprop-kit"), "course", "serve", "-C", str(deployment.course)]
    return [
        {
            "name": deployment.course_id,
            "display": True,
            "info": {"description": f"formgrader of {deployment.course_id}: submissions, grades, feedback"},
            "url": f"http://127.0.0.1:{deployment.formgrader_port}",
            "command": [str(grader_bin / "jupyterhub-singleuser"), "--ServerApp.default_url=/formgrader"],
            "user": deployment.grader,
            "cwd": str(deployment.course),
            "environment": environment,
            "oauth_no_confirm": True,
        },
        {
            "name": grading_service(deployment),
            "display": True,
            "info": {"description": f"what the class got wrong in {deployment.course_id}, as gradings arrive"},
            "url": f"http://127.0.0.1:{deployment.pages_port}",
            "command": [*serve, "--pages-port", str(deployment.pages_port)],
            "user": deployment.grader,
            "cwd": str(deployment.course),
            "environment": environment,
            "oauth_no_confirm": True,
        },
    ]


def authenticator(deployment):
    """(class, settings) of the authenticator: PAM (Unix passwords) or an LTI 1.3 launch from an LMS."""
    if deployment.auth == "lti13":
        lti = deployment.lti
        return "ltiauthenticator.lti13.auth.LTI13Authenticator", {
            "issuer": lti["issuer"],
            "client_id": [lti["client_id"]],
            "authorize_url": lti["authorize_url"],
            "jwks_endpoint": lti["jwks_url"],
            "username_key": lti["username_key"],
        }
    return "jupyterhub.auth.PAMAuthenticator", {}


def render_hub_config(deployment):
    """The text of ``jupyterhub_config.py``."""
    d = deployment
    student_bin = d.student_env / "bin"
    auth_class, auth_settings = authenticator(d)
    auth_name = auth_class.rpartition(".")[2]
    lines = [
        f'"""JupyterHub for the course {d.course_id}, generated by `backprop-kit hub init` from {SETTINGS_FILE}.',
        "",
        "Run it with `backprop-kit hub start`. Change a setting with `backprop-kit hub init` again: it writes",
        'this file anew.\n"""',
        "",
        "from functools import partial",
        "",
        "from autograder.hub.spawn import fetch_assignment",
        "",
        "c = get_config()  # noqa: F821 (JupyterHub provides it)",
        "",
        "# The proxy (configurable-http-proxy) serves browsers; the hub and the proxy's API stay on loopback.",
        f"c.JupyterHub.bind_url = {f'http://{d.ip}:{d.port}'!r}",
        f"c.JupyterHub.hub_bind_url = {f'http://127.0.0.1:{d.hub_port}'!r}",
        f"c.ConfigurableHTTPProxy.api_url = {f'http://127.0.0.1:{d.proxy_api_port}'!r}",
        f"c.ConfigurableHTTPProxy.pid_file = {str(d.state / 'proxy.pid')!r}",
        f"c.JupyterHub.db_url = {'sqlite:///' + str(d.state / 'jupyterhub.sqlite')!r}",
        f"c.JupyterHub.cookie_secret_file = {str(d.state / 'jupyterhub_cookie_secret')!r}",
        "",
        f"# Who logs in: the instructors and the roster's students, each a Unix account ({auth_name}).",
        f"c.JupyterHub.authenticator_class = {auth_class!r}",
        *[f"c.{auth_name}.{key} = {value!r}" for key, value in auth_settings.items()],
        f"c.Authenticator.allowed_users = {sorted(d.users)!r}",
        setting("JupyterHub.load_groups", groups(d)),
        setting("JupyterHub.load_roles", roles(d)),
        "",
        "# Each person's server runs as their own account, from the students' environment, in their home;",
        "# the course's assignment is fetched into it before the server starts, and JupyterLab opens notebook 01.",
        "c.JupyterHub.spawner_class = 'jupyterhub.spawner.LocalProcessSpawner'",
        f"c.Spawner.cmd = [{str(student_bin / 'jupyterhub-singleuser')!r}]",
        "c.Spawner.notebook_dir = '~'",
        f"c.Spawner.default_url = {'/lab/tree/' + str(d.workspace / FIRST_NOTEBOOK)!r}",
        f"c.Spawner.environment = {{'PATH': {f'{student_bin}:/usr/local/bin:/usr/bin:/bin'!r}}}",
        f"c.Spawner.pre_spawn_hook = partial(fetch_assignment, {str(student_bin)!r}, {d.course_id!r}, {ASSIGNMENT!r})",
        "c.Spawner.start_timeout = 120",
        "c.Spawner.http_timeout = 120",
        "",
        "# The course's services, run by the hub as the grader account (autograder.hub.config.services):",
        "# formgrader for the instructors; grading on submission, with the class insights page for the instructors.",
        setting("JupyterHub.services", services(d)),
        "",
    ]
    return "\n".join(lines)


def setting(name, value):
    """``c.<name> = <value>``, the value laid out over lines as Python would print it."""
    return f"c.{name} = {pprint.pformat(value, width=100, sort_dicts=False)}"


def render_student_nbgrader_config(deployment):
    """nbgrader's configuration in the students' environment: the exchange, enrolment by hub group."""
    return "\n".join(
        [
            '"""nbgrader for students on this hub: generated by `backprop-kit hub init`."""',
            "",
            "c = get_config()  # noqa: F821 (nbgrader provides it)",
            f"c.Exchange.root = {str(deployment.exchange)!r}",
            "# Assignments go to ~/<course>/<assignment>; the hub group nbgrader-<course> is the enrolment.",
            "c.Exchange.path_includes_course = True",
            "c.Authenticator.plugin_class = 'nbgrader.auth.JupyterHubAuthPlugin'",
            "",
        ]
    )


def write_environment_config(env, nbgrader_config=None, hide_instructor_tools=False):
    """Jupyter's configuration inside a venv (``<env>/etc/jupyter``, ``<env>/share/jupyter``), which every
    server of that venv reads: nbgrader's, no news toasts, and for students no instructor tools."""
    config_dir = Path(env) / "etc" / "jupyter"
    (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
    if nbgrader_config:
        (config_dir / "nbgrader_config.py").write_text(nbgrader_config)
    if hide_instructor_tools:
        page = {"disabledExtensions": dict.fromkeys(INSTRUCTOR_PLUGINS, True)}
        server = {"ServerApp": {"jpserver_extensions": dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, False)}}
        (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=2) + "\n")
        (config_dir / "jupyter_server_config.json").write_text(json.dumps(server, indent=2) + "\n")
    settings = Path(env) / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(QUIET_LAB, indent=2) + "\n")
