"""The Dataproc initialisation action, run here with stand-ins for what a node has (the image's
``flink`` command, the metadata server, the cluster's Python): it refuses a Flink other than the
one the job is built for, and leaves PyFlink of exactly the image's version importable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from programs.gcp._dataproc import INIT_ACTION


def _node(tmp: Path, image_flink: str, want: str, pyflink: str | None) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "flink").write_text(f"#!/bin/sh\necho 'Version: {image_flink}, Commit ID: 1a2b3c4'\n")
    (bin_dir / "metadata").write_text(f"#!/bin/sh\n[ \"$1\" = attributes/flink-version ] && echo {want}\n")
    site = tmp / "site"
    pip_log = tmp / "pip.log"
    # the node's Python: imports pyflink from `site`; `-m pip install` records the request and installs it
    (bin_dir / "python").write_text(
        "#!/bin/sh\n"
        f"if [ \"$1\" = -m ] && [ \"$2\" = pip ]; then echo \"$@\" >> {pip_log}; "
        f"v=${{5#apache-flink==}}; mkdir -p {site}/pyflink; echo \"__version__ = '$v'\" > {site}/pyflink/version.py; "
        f"touch {site}/pyflink/__init__.py; exit 0; fi\n"
        f"PYTHONPATH={site} exec python3 \"$@\"\n")
    if pyflink:
        (site / "pyflink").mkdir(parents=True)
        (site / "pyflink" / "__init__.py").touch()
        (site / "pyflink" / "version.py").write_text(f"__version__ = '{pyflink}'\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "GET_METADATA": str(bin_dir / "metadata"),
           "DATAPROC_PYTHON": str(bin_dir / "python")}
    return subprocess.run(["bash", str(INIT_ACTION)], env=env, capture_output=True, text=True, timeout=60)


def test_a_matching_image_gets_the_matching_pyflink(tmp_path: Path) -> None:
    done = _node(tmp_path, "1.17.2", "1.17", pyflink=None)
    assert done.returncode == 0, done.stderr
    assert "apache-flink==1.17.2" in (tmp_path / "pip.log").read_text()
    assert "Flink 1.17.2 with PyFlink 1.17.2" in done.stdout


def test_another_flink_on_the_image_fails_the_node(tmp_path: Path) -> None:
    done = _node(tmp_path, "1.18.1", "1.17", pyflink=None)
    assert done.returncode != 0 and "Flink 1.18.1" in done.stderr and not (tmp_path / "pip.log").exists()


def test_a_pyflink_of_another_version_fails_the_node(tmp_path: Path) -> None:
    done = _node(tmp_path, "1.17.2", "1.17", pyflink="2.2.0")
    assert done.returncode != 0 and "PyFlink 2.2.0 does not match Flink 1.17.2" in done.stderr
