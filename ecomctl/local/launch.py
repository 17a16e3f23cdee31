"""Exec a component with the environment in its 0600 env file (keeps secrets out of configs).

``python -m ecomctl.local.launch <env-file>``: the file holds ``{"argv", "cwd", "env"}``. The
process gets a small base environment plus the component's own, and a marker
(``ECOMCTL_COMPONENT``) by which ``down`` finds strays. Stdlib only: it runs before every start.
"""

from __future__ import annotations

import json
import os
import sys

BASE_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "TMPDIR", "JAVA_HOME")


def main() -> None:
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    env = {k: os.environ[k] for k in BASE_KEYS if k in os.environ}
    env.update(spec["env"])
    os.chdir(spec["cwd"])
    os.execvpe(spec["argv"][0], spec["argv"], env)


if __name__ == "__main__":
    main()
