"""The `vhdiff` command's process environment: OpenMP threads sleep when idle."""

import os
import subprocess
import sys

CHECK = (
    "import os, sys; import vhdiff.cli; assert 'torch' not in sys.modules; "
    "print(os.environ.get('OMP_WAIT_POLICY'))"
)


def _policy(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", CHECK], env={**base, **env}, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return out.stdout.strip()


def test_cli_sets_a_passive_wait_policy_before_torch_loads_and_keeps_the_users():
    assert _policy() == "PASSIVE"
    assert _policy(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
