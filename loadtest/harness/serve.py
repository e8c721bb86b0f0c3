"""Starts the system as the scale harness does (its own PostgreSQL cluster,
`fte broker`, `fte-fakes`, one gateway, N workers; no chaos), writes the
Locust config (URLs and test credentials) and runs Locust headless against
it, then stops everything. Used by loadtest/run-locust.sh.

    python3 loadtest/harness/serve.py [--users 100] [--spawn-rate 20] [--time 60s]"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402

ROOT = run.ROOT


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--spawn-rate", type=float, default=20)
    p.add_argument("--time", default="60s")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--model-latency-ms", type=int, default=1000)
    p.add_argument("--bin-dir", default=None)
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("FTE_SCALE_PG_PORT", 54339)))
    p.add_argument("--api-port", type=int, default=int(os.environ.get("FTE_SCALE_API_PORT", 18190)))
    p.add_argument("--results", default=str(ROOT / "results"))
    args = p.parse_args()
    run_dir = Path(args.results) / ("locust-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    run_dir.mkdir(parents=True, exist_ok=True)
    system = run.System(args, run_dir)
    try:
        system.start()
        config = dict(system.fakes.config, public_base_url=system.api_url)
        config_path = run_dir / "locust-config.json"
        config_path.write_text(json.dumps(config))
        env = dict(os.environ, FTE_LOCUST_CONFIG=str(config_path))
        command = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest/locustfile.py"),
                   "--headless", "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                   "--run-time", args.time, "--host", system.api_url, "--only-summary",
                   "--csv", str(run_dir / "locust")]
        print(f"[locust] {args.users} users for {args.time} against {system.api_url}", flush=True)
        return subprocess.run(command, env=env, cwd=ROOT).returncode
    finally:
        system.stop()


if __name__ == "__main__":
    sys.exit(main())
