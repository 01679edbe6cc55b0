"""An LTI 1.3 launch logs a student in to a hub configured by `hub init --auth lti13`, in headless Chromium.

A stand-in platform (an LMS) runs on loopback with its own RSA key: its JSON Web
Key Set, its OIDC authorization endpoint (it answers with the signed id_token in
an auto-submitted form, as Canvas and Moodle do) and a course page whose link
starts the launch. JupyterHub runs the configuration `hub init` generates for
that platform (the formgrader service left out: it needs the grader's
environment, which this test does not build). The launch's custom `username`
becomes the hub user, which is the Unix account and nbgrader's student id; a
launch for someone not on the roster is refused.
"""

import html
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from headless_chromium import launched
from test_hub import ARTIFACTS, RUN, free_port_block

from autograder.hub import config
from autograder.hub.deployment import Deployment

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CLIENT_ID = "backprop-kit-hub"
LEARNER = f"{RUN}ann"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


class Platform:
    """The LMS: signs id_tokens with its key, publishes the key set, authorizes every launch it started."""

    def __init__(self, port):
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        self.url = f"http://127.0.0.1:{port}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = {**RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True), "kid": "k1", "alg": "RS256"}
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self.handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def id_token(self, request, username):
        import jwt

        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
            "nonce": request["nonce"],
            CLAIM + "version": "1.3.0",
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "deployment_id": "1",
            CLAIM + "target_link_uri": request["redirect_uri"],
            CLAIM + "resource_link": {"id": "backprop-assignment"},
            CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            CLAIM + "custom": {"username": username},
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})

    def handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/jwks":
                    self.reply(json.dumps({"keys": [platform.jwk]}), "application/json")
                elif url.path == "/launch":  # the course page's link: a third-party initiated login
                    fields = {
                        "iss": platform.url,
                        "login_hint": query["user"],
                        "target_link_uri": query["hub"] + "/hub/home",
                        "client_id": CLIENT_ID,
                        "lti_message_hint": "backprop-assignment",
                    }
                    self.reply(form(query["hub"] + "/hub/lti13/oauth_login", fields))
                elif url.path == "/authorize":  # the platform has a session for login_hint: it answers at once
                    fields = {"id_token": platform.id_token(query, query["login_hint"]), "state": query["state"]}
                    self.reply(form(query["redirect_uri"], fields))
                else:
                    self.send_error(404)

            def reply(self, body, kind="text/html"):
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        return Handler


def form(action, fields):
    """A page that posts ``fields`` to ``action`` as soon as it loads."""
    inputs = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items())
    return (
        f'<form method="post" action="{html.escape(action)}">{inputs}</form><script>document.forms[0].submit()</script>'
    )


@pytest.fixture(scope="module")
def hub():
    port = free_port_block(6)  # the hub's five, then the platform's
    platform = Platform(port + 5)
    lti = {
        "issuer": platform.url,
        "client_id": CLIENT_ID,
        "authorize_url": platform.url + "/authorize",
        "jwks_url": platform.url + "/jwks",
        "username_key": "custom_username",
    }
    folder = Path(tempfile.mkdtemp(prefix="backprop-hub-lti-"))
    deployment = Deployment(
        folder, course_id=f"{RUN}c", instructors=[f"{RUN}i1"], students=[LEARNER], port=port, ip="127.0.0.1",
        auth="lti13", lti=lti,
    )  # fmt: skip
    deployment.state.mkdir()
    deployment.config_file.write_text(config.render_hub_config(deployment))
    wrapper = folder / "without_services.py"
    wrapper.write_text(
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(deployment.config_file)!r})  # noqa: F821\n"
        "c.JupyterHub.services = []\n"
        "c.JupyterHub.load_roles = [role for role in c.JupyterHub.load_roles if role['name'] == 'server']\n"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "hub-lti.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(wrapper)],
            cwd=deployment.state,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{deployment.url}/hub/api", timeout=3):
                break
        except OSError:
            time.sleep(0.5)
    yield deployment.url, platform
    process.terminate()
    process.wait(timeout=120)
    platform.server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(hub):
    with launched() as chromium:
        yield chromium


WHO_AM_I = """
async () => (await fetch('/hub/api/user', {headers: {'X-XSRFToken': window.jhdata.xsrf_token}})).json()
"""


def launch(browser, hub, user):
    """Follow the LMS's link as ``user``: (the hub's answer to the signed launch, the page it leaves them on)."""
    url, platform = hub
    page = browser.new_context().new_page()
    with page.expect_response(lambda response: "/hub/lti13/oauth_callback" in response.url, timeout=60_000) as answer:
        page.goto(f"{platform.url}/launch?" + urllib.parse.urlencode({"user": user, "hub": url}))
    page.wait_for_load_state()
    return answer.value.status, page


def test_an_lms_launch_logs_the_roster_student_in_under_their_lms_user_name(hub, browser):
    status, page = launch(browser, hub, LEARNER)
    assert status == 302
    page.wait_for_url(f"{hub[0]}/hub/home", timeout=60_000)
    who = page.evaluate(WHO_AM_I)
    page.screenshot(path=ARTIFACTS / "lti-launch-logged-in.png")
    assert who.get("name") == LEARNER, who


def test_an_lms_launch_for_someone_off_the_roster_is_refused(hub, browser):
    status, page = launch(browser, hub, f"{RUN}eve")
    assert status == 403
    page.goto(f"{hub[0]}/hub/home")
    assert "/hub/login" in page.url, "not logged in"
