"""Run ``python -m pysyms`` in a child process, against the pysyms these tests import."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pysyms


def run_pysyms_process(args, timeout=120):
    """``python -m pysyms ARGS`` as a CompletedProcess (text output).

    The child runs from an empty directory, so a source checkout in the
    current directory (whose ``pysyms/`` has no compiled module) cannot shadow
    the installed package; PYTHONPATH points at the package under test.
    """
    env = dict(os.environ)
    package_parent = str(Path(pysyms.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_parent + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run([sys.executable, "-m", "pysyms", *args], capture_output=True,
                              text=True, env=env, cwd=cwd, timeout=timeout)
