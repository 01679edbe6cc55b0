"""`backprop-kit hub`: misuse is refused before anything is written; the generated configuration is JupyterHub's.

The deployment itself (accounts, environments, a running hub in a browser) is
tests/browser/test_hub.py; here, what needs no hub: the command line's refusals
(one line, exit code 2, no folder made) and jupyterhub_config.py as JupyterHub
loads it, for PAM and for an LTI 1.3 launch.
"""

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.hub import config
from autograder.hub.deployment import Deployment

KIT = str(Path(sys.executable).parent / "backprop-kit")


def refused(*argv):
    done = subprocess.run([KIT, "hub", *map(str, argv)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, (done.stdout, done.stderr)
    (line,) = done.stderr.strip().splitlines()
    return line


@pytest.mark.parametrize(
    ("arguments", "roster", "says"),
    [
        (["--course-id", "Deep Learning", "--instructor", "lee"], None, "course id 'Deep Learning'"),
        (["--instructor", "Lee Smith"], None, "--instructor: 'Lee Smith' cannot be a Unix account's name"),
        ([], None, "name at least one instructor"),
        (["--instructor", "lee"], "alice\nBob Jones  # a full name\n", "'Bob Jones' cannot be a Unix account's name"),
        (["--instructor", "lee", "--port", "65534"], None, "port 65534"),
        (["--instructor", "lee", "--auth", "lti13", "--lti-issuer", "https://lms"], None, "--lti-client-id"),
    ],
)
def test_hub_init_refuses_misuse_in_one_line_before_writing_anything(tmp_path, arguments, roster, says):
    if roster is not None:
        (tmp_path / "students.txt").write_text(roster)
        arguments = [*arguments, "--roster", tmp_path / "students.txt"]
    line = refused("init", tmp_path / "hub", *arguments)
    assert says in line and line.startswith("backprop-kit: "), line
    assert not (tmp_path / "hub").exists()


def test_hub_init_refuses_a_roster_it_cannot_read(tmp_path):
    line = refused("init", tmp_path / "hub", "--instructor", "lee", "--roster", tmp_path / "missing.txt")
    assert "cannot read the roster" in line and not (tmp_path / "hub").exists()


def test_hub_start_refuses_a_folder_without_a_deployment(tmp_path):
    assert "no hub in" in refused("start", tmp_path) and "hub init" in refused("start", tmp_path)


def load_in_jupyterhub(deployment, tmp_path):
    """The generated file, loaded by JupyterHub's own application (as `jupyterhub -f` does)."""
    from jupyterhub.app import JupyterHub

    path = tmp_path / "jupyterhub_config.py"
    path.write_text(config.render_hub_config(deployment))
    app = JupyterHub()
    app.load_config_file(str(path))
    return app


def deployment_in(tmp_path, **settings):
    return Deployment(tmp_path / "hub", course_id="dl101", instructors=["lee"], students=["ann", "bo"], **settings)


def test_the_pam_configuration_loads_with_groups_roles_services_and_the_fetch_hook(tmp_path):
    deployment = deployment_in(tmp_path, port=18000, ip="127.0.0.1")
    app = load_in_jupyterhub(deployment, tmp_path)
    assert app.authenticator_class.__name__ == "PAMAuthenticator"
    assert app.bind_url == "http://127.0.0.1:18000" and app.hub_bind_url == "http://127.0.0.1:18001"
    assert app.config.Authenticator.allowed_users == ["ann", "bo", "lee"]
    assert app.load_groups == {"nbgrader-dl101": {"users": ["lee", "ann", "bo"]}, "formgrade-dl101": {"users": ["lee"]}}
    formgrader, grading = app.services
    assert formgrader["name"] == "dl101" and formgrader["user"] == "grader-dl101"
    assert formgrader["cwd"] == str(deployment.course) and formgrader["url"] == "http://127.0.0.1:18003"
    assert grading["name"] == "grading-dl101" and grading["user"] == "grader-dl101"
    assert grading["url"] == "http://127.0.0.1:18004"
    assert grading["command"][1:] == ["course", "serve", "-C", str(deployment.course), "--pages-port", "18004"]
    formgrade_role = next(role for role in app.load_roles if role["name"] == "formgrade-dl101")
    assert formgrade_role["groups"] == ["formgrade-dl101"]
    assert {"access:services!service=dl101", "access:services!service=grading-dl101"} <= set(formgrade_role["scopes"])
    assert not any(
        "grading-dl101" in scope
        for role in app.load_roles
        if role["name"] != "formgrade-dl101"
        for scope in role.get("scopes", [])
    )
    hook = app.config.Spawner.pre_spawn_hook
    assert hook.func.__name__ == "fetch_assignment" and hook.args == (
        str(deployment.student_env / "bin"),
        "dl101",
        "backprop",
    )
    assert app.config.Spawner.default_url == "/lab/tree/dl101/backprop/01_chain_rule.ipynb"


def test_the_lti13_configuration_names_the_platform_and_the_account_claim(tmp_path):
    from ltiauthenticator.lti13.auth import LTI13Authenticator

    lti = {
        "issuer": "https://canvas.example.edu",
        "client_id": "10000000000042",
        "authorize_url": "https://canvas.example.edu/api/lti/authorize_redirect",
        "jwks_url": "https://canvas.example.edu/api/lti/security/jwks",
        "username_key": "custom_username",
    }
    app = load_in_jupyterhub(deployment_in(tmp_path, auth="lti13", lti=lti), tmp_path)
    assert app.authenticator_class is LTI13Authenticator
    authenticator = LTI13Authenticator(config=app.config)
    assert authenticator.issuer == lti["issuer"] and authenticator.client_id == {lti["client_id"]}
    assert authenticator.jwks_endpoint == lti["jwks_url"] and authenticator.authorize_url == lti["authorize_url"]
    claims = {"sub": "8d2f", "https://purl.imsglobal.org/spec/lti/claim/custom": {"username": "ann"}}
    assert authenticator.get_username(claims) == "ann"


def test_students_get_the_assignment_list_but_no_instructor_tool(tmp_path):
    deployment = deployment_in(tmp_path)
    env = tmp_path / "env"
    config.write_environment_config(env, config.render_student_nbgrader_config(deployment), hide_instructor_tools=True)
    page = (env / "etc" / "jupyter" / "labconfig" / "page_config.json").read_text()
    assert "@jupyter/nbgrader:formgrader" in page and "create-assignment" in page and "course-list" in page
    assert "assignment-list" not in page and "@jupyter/nbgrader:menu" not in page
    nbgrader = (env / "etc" / "jupyter" / "nbgrader_config.py").read_text()
    assert f"c.Exchange.root = {str(deployment.exchange)!r}" in nbgrader and "JupyterHubAuthPlugin" in nbgrader


@pytest.mark.skipif(os.geteuid() != 0, reason="root's refusal")
def test_root_is_refused_in_a_course_another_account_owns(tmp_path):
    from autograder.course.build import build

    course = build(tmp_path / "course")
    nobody = pwd.getpwnam("nobody")
    os.chown(course.root, nobody.pw_uid, nobody.pw_gid)
    done = subprocess.run([KIT, "course", "report", "-C", course.root], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"backprop-kit: {course.root} belongs to nobody: run the course's commands as nobody (runuser -u nobody --)"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="hub init runs as root")
def test_hub_init_refuses_a_folder_students_cannot_enter(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    line = refused("init", private / "hub", "--instructor", "lee")
    assert f"{private / 'hub'} lies in {private} (mode 700), which students cannot enter" in line
    assert not (private / "hub").exists()


LEFT_BEHIND = """
import os, subprocess, sys, time
from autograder.hub import run

run._become_subreaper()
# A notebook's process that detached itself: a new session, its parent gone at once.
subprocess.run([sys.executable, "-c",
    "import os, subprocess, sys; subprocess.Popen(['sleep', '600'], start_new_session=True); os._exit(0)"])
time.sleep(0.5)
orphans = [pid for pid in run.descendants() if open(f"/proc/{pid}/cmdline").read().startswith("sleep")]
print(orphans[0], run.end_descendants())
"""


def test_hub_start_ends_what_outlived_the_hub_a_detached_process_included():
    done = subprocess.run([sys.executable, "-c", LEFT_BEHIND], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    orphan, ended = map(int, done.stdout.split())
    assert ended == 1 and not Path(f"/proc/{orphan}").exists()
