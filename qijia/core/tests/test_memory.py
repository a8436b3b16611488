import json
import subprocess
import sys

import numpy as np

from qijia.core.memory import peak_rss_mib


def test_a_command_started_by_a_large_process_reports_its_own_peak():
    held = np.ones(400 * 2**20 // 8)  # 400 MiB resident in this process
    child = subprocess.run(
        [sys.executable, "-c", "import json; from qijia.core.memory import peak_rss_mib; "
         "print(json.dumps(peak_rss_mib()))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert held.sum() > 0
    peak = json.loads(child.stdout)
    assert 0 < peak["main"] < 200  # ru_maxrss would say at least 400
    assert peak_rss_mib()["main"] >= 400
