"""The workflow on a real SLURM scheduler: tests/slurm/run_slurm_test.sh, run when ALD_SLURM_TEST=1.

The script needs root: it installs slurm and munge if missing and starts a one-node cluster (CI sets
ALD_SLURM_TEST=1). Its output (sbatch calls, SLURM job ids, the resume line, the metrics) goes straight
to the terminal, so CI's log shows it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ALD_SLURM_TEST") != "1",
                    reason="real SLURM test: set ALD_SLURM_TEST=1 (as root: installs slurm + munge, starts a one-node cluster)")
def test_workflow_runs_through_a_real_slurm_scheduler_and_resumes_a_cancelled_job(capsys):
    # jobs and rules call `python`: make it this interpreter (sbatch passes PATH on to the jobs)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with capsys.disabled():
        script = subprocess.Popen(["bash", str(REPO / "tests/slurm/run_slurm_test.sh")], cwd=REPO, env=env)
        try:
            returncode = script.wait(timeout=1800)
        except subprocess.TimeoutExpired:
            script.terminate()  # SIGTERM: the script stops its jobs and daemons before it exits
            script.wait(timeout=300)
            pytest.fail("SLURM integration test timed out after 30 min")
    assert returncode == 0, "SLURM integration test failed (see its output above)"
