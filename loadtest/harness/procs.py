"""The system under test as separate processes on loopback: its own
PostgreSQL cluster (never the developer's), `fte broker --control-stdin`,
`fte-fakes`, one `fte-api` and N `fte-worker`s, each with its own log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except Exception:
        return False


def assigned_partitions(metrics_port: int) -> int:
    """Partitions of fte.tickets.incoming a worker's consumer holds, from its /metrics
    (0 when it cannot be read)."""
    try:
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=1.0) as response:
            text = response.read().decode()
    except Exception:
        return 0
    return parse_assigned(text)


def parse_assigned(text: str) -> int:
    """The fte_kafka_assigned_partitions value for fte.tickets.incoming in a
    Prometheus exposition."""
    total = 0
    for line in text.splitlines():
        if line.startswith("fte_kafka_assigned_partitions{") and 'topic="fte.tickets.incoming"' in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


class Postgres:
    """A second cluster from scripts/pg.sh (FTE_PG_DATA, its own port)."""

    def __init__(self, port: int, data_dir: Path, database: str = "fte_scale"):
        self.port = port
        self.data_dir = data_dir
        self.database = database
        self.env = dict(os.environ, FTE_PG_PORT=str(port), FTE_PG_DATA=str(data_dir))

    @property
    def url(self) -> str:
        return f"postgres://fte@127.0.0.1:{self.port}/{self.database}"

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(ROOT / "scripts/pg.sh"), *args], env=self.env, check=check,
                              capture_output=True, text=True)

    def _reachable_by_server_user(self) -> bool:
        """As root the server runs as the system user fte-pg (scripts/pg.sh),
        which must be able to reach the data directory."""
        if os.geteuid() != 0:
            return True
        user = os.environ.get("FTE_PG_SYSTEM_USER", "fte-pg")
        return subprocess.run(["runuser", "-u", user, "--", "test", "-x",
                               str(self.data_dir.parent)], capture_output=True).returncode == 0

    def start(self):
        self._pg("install")  # creates the system user when we are root
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        for path in (ROOT / ".local", self.data_dir.parent):
            os.chmod(path, 0o755)
        if not self._reachable_by_server_user():
            # Like scripts/pg.sh does for its own home: a folder fte-pg can reach.
            import hashlib
            tag = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
            self.data_dir = Path(f"/var/lib/fte-pg/scale-{tag}/data")
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(self.data_dir.parent, 0o755)
            self.env["FTE_PG_DATA"] = str(self.data_dir)
        result = self._pg("start", check=False)
        if result.returncode != 0:
            raise RuntimeError(f"PostgreSQL for the harness did not start: {result.stderr[-2000:]}")

    def restart(self):
        self._pg("restart")

    def stop(self):
        self._pg("stop", check=False)

    def psql(self, sql: str, database: str | None = None) -> str:
        result = self._pg("psql", database or self.database, "-v", "ON_ERROR_STOP=1", "-qtAX",
                          "-F", "\t", "-c", sql)
        return result.stdout

    def url_of(self, database: str) -> str:
        return f"postgres://fte@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, database: str):
        exists = self._pg("psql", "postgres", "-qtAX", "-c",
                          f"select 1 from pg_database where datname = '{database}'").stdout.strip()
        if not exists:
            self._pg("psql", "postgres", "-q", "-c", f"create database {database}")

    def recreate_database(self, template: str):
        """A fresh run database, copied from `template` (migrated, with the
        knowledge base imported: the import embeds every chunk, which takes
        a debug build over a minute, so it is kept between runs)."""
        self._pg("psql", "postgres", "-q", "-c",
                 f"drop database if exists {self.database} with (force)", "-c",
                 f"create database {self.database} template {template}")

    def query_json(self, sql: str) -> list[dict]:
        """Rows of `sql` as dicts (through json_agg)."""
        out = self.psql(f"select coalesce(json_agg(q), '[]'::json) from ({sql}) q").strip()
        return json.loads(out or "[]")


class Process:
    """One child process with its log file; killable with SIGKILL."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path,
                 stdin=None, stdout=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.stdin_mode = stdin
        self.stdout_mode = stdout
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdin=self.stdin_mode or subprocess.DEVNULL,
            stdout=self.stdout_mode or log, stderr=log, cwd=ROOT, start_new_session=True)
        self.starts += 1
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def terminate(self, grace: float = 10.0):
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill9()


class Broker:
    """`fte broker --control-stdin`: its address, and fault commands."""

    def __init__(self, bin_dir: Path, env: dict, log_dir: Path, brokers: int = 1):
        self.address_file = log_dir / "broker.addr"
        env = dict(env, FTE_BROKER_ADDRESS_FILE=str(self.address_file))
        argv = [str(bin_dir / "fte"), "broker", "--brokers", str(brokers), "--control-stdin"]
        self.process = Process("broker", argv, env,
                               log_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.answers: list[str] = []
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)

    def start(self) -> str:
        self.process.start()
        first = self.process.proc.stdout.readline().decode().strip()
        if not first:
            raise RuntimeError(f"the broker did not start (log: {self.process.log_path})")
        threading.Thread(target=self._read, daemon=True).start()
        return first

    def _read(self):
        for line in self.process.proc.stdout:
            with self._answered:
                self.answers.append(line.decode().strip())
                self._answered.notify_all()

    def command(self, line: str, timeout: float = 10.0) -> str:
        with self._answered:
            seen = len(self.answers)
            self.process.proc.stdin.write((line + "\n").encode())
            self.process.proc.stdin.flush()
            if not self._answered.wait_for(lambda: len(self.answers) > seen, timeout):
                raise RuntimeError(f"the broker did not answer {line!r}")
            answer = self.answers[seen]
        if not answer.startswith("ok"):
            raise RuntimeError(f"broker refused {line!r}: {answer}")
        return answer

    def stop(self):
        if self.process.alive():
            try:
                self.process.proc.stdin.close()
            except OSError:
                pass
            self.process.terminate()


class Fakes:
    """`fte-fakes`: the provider fakes, the model and the admin plane."""

    def __init__(self, bin_dir: Path, env: dict, log_dir: Path, model_latency_ms: int):
        self.process = Process(
            "fakes", [str(bin_dir / "fte-fakes"), "--model-latency-ms", str(model_latency_ms)],
            env, log_dir, stdout=subprocess.PIPE)
        self.config: dict = {}

    def start(self) -> dict:
        self.process.start()
        line = self.process.proc.stdout.readline().decode().strip()
        if not line:
            raise RuntimeError(f"fte-fakes did not start (log: {self.process.log_path})")
        self.config = json.loads(line)
        return self.config

    def get_json(self, url: str):
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    def post_json(self, url: str, body) -> dict:
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else {}

    def twilio_down(self, seconds: float):
        return self.post_json(self.config["admin"] + "/twilio/down", {"seconds": seconds})

    def twilio_sent(self) -> list[dict]:
        return self.get_json(self.config["twilio_control"] + "/sent")

    def gmail_sent(self) -> list[dict]:
        return self.get_json(self.config["gmail_control"] + "/sent")

    def deliver_email(self, raw: str) -> dict:
        request = urllib.request.Request(self.config["gmail_control"] + "/inbound",
                                         data=raw.encode(), method="POST",
                                         headers={"content-type": "message/rfc822"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def stop(self):
        self.process.terminate()
