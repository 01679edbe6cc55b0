"""The class insights page, served to a JupyterHub's instructors while the grading service runs.

``course serve --pages-port PORT`` starts this next to itself, on the socket it bound,
when it runs as a JupyterHub service (``autograder.hub.config.services``). The page is
``autograder.reports.insights.page``, drawn again when a grading has been recorded
since it was last drawn (at most every ``REFRESH_SECONDS``). JupyterHub's OAuth
lets in only those its roles give access to the service: the course's
instructors (``formgrade-<course>``); a student gets 403.

    python -m autograder.service.pages COURSE SOCKET_FD
"""

import os
import secrets
import socket
import sys
import time

import sqlalchemy as sa
from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import httpserver, ioloop, web

from autograder.course import open_course
from autograder.gradebook.schema import submission_table
from autograder.reports import insights
from autograder.reports.insights_page import POLICY

REFRESH_SECONDS = 10.0


class Insights:
    """The page of a course, drawn again when the gradebook holds a grading the page has not counted."""

    def __init__(self, course):
        self.course, self.text, self.counted, self.checked = course, "", None, 0.0

    def page(self):
        if time.monotonic() - self.checked >= REFRESH_SECONDS or not self.text:
            self.checked = time.monotonic()
            gradings = last_gradings(self.course)
            if gradings != self.counted:
                self.text, self.counted = insights.page(self.course), gradings
        return self.text


def last_gradings(course):
    """(how many students have a grading, the latest one's time) in the course's gradebook."""
    engine = sa.create_engine(course.db_url)
    try:
        with engine.connect() as connection:
            query = sa.select(sa.func.count(), sa.func.max(submission_table.c.graded_at))
            return tuple(connection.execute(query.where(submission_table.c.assignment == course.assignment)).one())
    except sa.exc.DatabaseError:  # no kit tables yet: nothing graded
        return (0, None)
    finally:
        engine.dispose()


class PageHandler(HubOAuthenticated, web.RequestHandler):
    """The page, to those JupyterHub's OAuth lets in (others are sent to log in, or get 403)."""

    @web.authenticated
    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", POLICY)
        self.write(self.settings["insights"].page())


def application(course, prefix):
    """The tornado application serving ``course``'s page under the service's URL ``prefix``."""
    return web.Application(
        [(prefix, PageHandler), (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler)],
        insights=Insights(course),
        cookie_secret=secrets.token_bytes(32),
    )


def main(root, fd):
    """Serve ``root``'s page on the listening socket ``fd`` until stopped."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    server = httpserver.HTTPServer(application(open_course(root), prefix))
    listening = socket.socket(fileno=int(fd))
    listening.setblocking(False)  # tornado accepts until there is nothing left to accept
    server.add_sockets([listening])
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m autograder.service.pages COURSE SOCKET_FD")
    main(*sys.argv[1:])
