"""Content hashes that decide whether a grading is still valid: a submission's, and the course's.

A grading depends on exactly two things: the files the student submitted, and
the course it was graded against, that is the source notebooks (hidden tests
injected), the library shipped with them, the nbgrader configuration, whether
the course records hints, and the grading code itself (the installed kit, whose
exercises judge the verification).
Both hashes depend on file contents and relative paths only, never on where a
folder is, so a Dask worker grading an unpacked copy of the course finds the
TA's fingerprint again.
"""

import hashlib
from functools import cache
from pathlib import Path

import autograder
import backprop_lib

KIT_PACKAGES = (Path(autograder.__file__).parent, Path(backprop_lib.__file__).parent)


def kit_version():
    """The installed backprop-kit's version and a hash of its code, e.g. '0.1.0+3f2a9c1e0b7d'."""
    return f"{backprop_lib.__version__}+{_kit_code_hash()[:12]}"


def submission_hash(folder):
    """sha256 of a submission folder: every regular file's relative path and bytes (symlinks ignored)."""
    return _hash_tree(Path(folder), hashlib.sha256()).hexdigest()


def course_fingerprint(course):
    """sha256 of what grading depends on besides the submission: source/, the config, the kit's code.

    A course that records hints adds that to the hash (one that does not hashes as before).
    """
    digest = hashlib.sha256(kit_version().encode())
    digest.update(course.config_file.read_bytes())
    if course.records_hints:
        digest.update(b"record_hints")
    return _hash_tree(course.source, digest).hexdigest()


@cache
def _kit_code_hash():
    digest = hashlib.sha256()
    for package in KIT_PACKAGES:
        _hash_tree(package, digest, pattern="*.py")
    return digest.hexdigest()


def _hash_tree(folder, digest, pattern="*"):
    for path in sorted(folder.rglob(pattern)):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            name = path.relative_to(folder).as_posix().encode()
            content = path.read_bytes()
            digest.update(len(name).to_bytes(8, "big") + name + len(content).to_bytes(8, "big") + content)
    return digest
