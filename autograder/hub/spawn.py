"""What the hub does as a person's server starts: the course's assignment is fetched into their home.

``fetch_assignment`` is the spawner's ``pre_spawn_hook`` (the hub runs it as
root): unless ``~/<course>/<assignment>`` exists, it runs ``nbgrader
fetch_assignment`` as that person's own account, with the server's hub token
(nbgrader checks the course's hub group), so the files in their home are theirs
and a link they planted is followed with their rights only. A fetch that fails
is logged and the server starts anyway: the assignment list fetches it with one
click.
"""

import asyncio
import os
import pwd
from pathlib import Path

FETCH_SECONDS = 120


async def fetch_assignment(student_bin, course_id, assignment, spawner):
    """Fetch ``assignment`` of ``course_id`` into the spawning user's home, as that user, if it is not there."""
    account = pwd.getpwnam(spawner.user.name)
    home = Path(account.pw_dir)
    if os.path.lexists(home / course_id / assignment):
        return
    env = {**spawner.get_env(), "HOME": str(home), "USER": account.pw_name, "SHELL": "/bin/bash"}
    process = await asyncio.create_subprocess_exec(
        str(Path(student_bin) / "nbgrader"),
        "fetch_assignment",
        assignment,
        f"--course={course_id}",
        cwd=home,
        env=env,
        user=account.pw_uid,
        group=account.pw_gid,
        extra_groups=[],
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), FETCH_SECONDS)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        spawner.log.warning(f"fetching {assignment} for {account.pw_name} took over {FETCH_SECONDS} s: stopped")
        return
    if process.returncode:
        spawner.log.warning(f"fetching {assignment} for {account.pw_name} failed:\n{output.decode(errors='replace')}")
    else:
        spawner.log.info(f"{assignment} fetched into {home / course_id / assignment}")
