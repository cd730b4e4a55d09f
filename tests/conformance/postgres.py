"""A throw-away PostgreSQL 15 for tests and benchmarks that run facekit servers on a shared registry.

    pg = Postgres()            # initdb + start in a fresh temp dir; database "facekit" created
    pg.url                     # libpq URI of "facekit" (unix socket only, trust auth)
    pg.restart()               # pg_ctl restart -m fast; also stop(), start(), kill()
    pg.cleanup()               # stop (immediate) and delete the temp dir

The server listens on a unix socket only (`listen_addresses = ''`) in a private directory, with
fsync on (tests check durability) and small shared buffers. initdb and pg_ctl refuse to run as
root, so as root (CI) they run as the `postgres` system user through runuser (or setpriv), in a
temp dir that user owns; root still reaches the socket. `missing()` says why PostgreSQL can't be
used here (None when it can): callers decide whether that is a skip or a failure.
"""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse

PG_BIN = os.environ.get("FACEKIT_PG_BIN", "/usr/lib/postgresql/15/bin")
SYSTEM_USER = "postgres"  # runs the cluster when we are root
DB_USER = "facekit"  # the cluster's superuser, named by initdb --username


def missing():
    """Why no throw-away PostgreSQL can run here, or None."""
    for tool in ("initdb", "pg_ctl", "postgres", "psql"):
        if not os.access(os.path.join(PG_BIN, tool), os.X_OK):
            return f"PostgreSQL 15 not installed: {PG_BIN}/{tool} missing (apt-get install postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return f"running as root but there is no '{SYSTEM_USER}' system user to run PostgreSQL as"
        if not (shutil.which("runuser") or shutil.which("setpriv")):
            return "running as root but neither runuser nor setpriv is installed"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """One PostgreSQL cluster in its own temp dir, started on construction."""

    def __init__(self, shared_buffers="16MB", max_connections=100, database="facekit", extra_conf=None):
        reason = missing()
        if reason:
            raise RuntimeError(reason)
        self.port = _free_port()  # only names the socket file (.s.PGSQL.<port>): there is no TCP listener
        # Straight under the system temp dir, not pytest's tmp_path: /tmp/pytest-of-root is 0700, which
        # the postgres user could not traverse. Short too: a socket path must fit in 107 bytes.
        self.dir = tempfile.mkdtemp(prefix="fk-pg-")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.database = database
        self._as_user = self._drop_privileges_prefix()
        os.mkdir(self.sock)
        open(self.logfile, "a").close()
        if self._as_user:
            user = pwd.getpwnam(SYSTEM_USER)
            for p in (self.dir, self.sock, self.logfile):
                os.chown(p, user.pw_uid, user.pw_gid)
            os.chmod(self.dir, 0o755)
            self._check_reachable()
        try:
            self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "--username", DB_USER,
                       "--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync"])
            conf = {"listen_addresses": "''", "unix_socket_directories": f"'{self.sock}'",
                    "port": str(self.port), "fsync": "on", "synchronous_commit": "on",
                    "full_page_writes": "on", "shared_buffers": shared_buffers,
                    "max_connections": str(max_connections), "logging_collector": "off",
                    "log_min_messages": "warning"}
            conf.update(extra_conf or {})
            with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                f.write("\n# facekit throw-away cluster\n")
                for k, v in conf.items():
                    f.write(f"{k} = {v}\n")
            self.start()
            self.create_database(database)
        except BaseException:
            self.cleanup()
            raise

    # -- running commands as the cluster's owner

    @staticmethod
    def _drop_privileges_prefix():
        if os.geteuid() != 0:
            return []
        if shutil.which("runuser"):
            return ["runuser", "-u", SYSTEM_USER, "--"]
        user = pwd.getpwnam(SYSTEM_USER)
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"]

    def _check_reachable(self):
        probe = subprocess.run(self._as_user + ["test", "-w", self.dir, "-a", "-x", self.dir],
                               capture_output=True)
        if probe.returncode != 0:
            raise RuntimeError(f"user {SYSTEM_USER} cannot write {self.dir}: is a parent directory of the "
                               f"temp dir closed to it? (set TMPDIR to a directory every user can traverse)")

    def _run(self, argv, check=True, timeout=120):
        # stdin from /dev/null and output to files (not pipes): pg_ctl start leaves the postmaster
        # running, and a pipe it inherited would keep a capture_output call waiting for EOF.
        with tempfile.TemporaryFile() as out:
            p = subprocess.run(self._as_user + argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                               timeout=timeout, cwd=self.dir)
            out.seek(0)
            text = out.read().decode(errors="replace")
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}:\n{text}\n--- log:\n{self.log_tail()}")
        return p.returncode, text

    def _pg_ctl(self, *args, check=True):
        return self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l", self.logfile, "-w",
                          "-t", "60", *args], check=check)

    # -- life cycle

    def start(self):
        self._pg_ctl("start")
        self.wait_ready()

    def stop(self, mode="fast"):
        """pg_ctl stop -m fast (smart, fast or immediate); no error when it is not running."""
        if self.running():
            self._pg_ctl("stop", "-m", mode)

    def restart(self, mode="fast"):
        self._pg_ctl("restart", "-m", mode)
        self.wait_ready()

    def kill(self):
        """SIGKILL the postmaster (a crash; start() recovers from the WAL). Its backends exit on their own."""
        pid = self.postmaster_pid()
        if pid:
            os.kill(pid, 9)
            deadline = time.time() + 30
            while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
                time.sleep(0.05)

    def running(self):
        return self._pg_ctl("status", check=False)[0] == 0

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while True:
            rc, _ = self._run([os.path.join(PG_BIN, "pg_isready"), "-h", self.sock, "-p", str(self.port),
                               "-d", "postgres", "-U", DB_USER], check=False)
            if rc == 0:
                return
            if time.time() > deadline:
                raise RuntimeError(f"PostgreSQL not ready after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def cleanup(self):
        try:
            if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                self._pg_ctl("stop", "-m", "immediate", check=False)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    # -- connecting

    def url_of(self, database):
        q = "&".join(f"{k}={urllib.parse.quote(str(v), safe='/')}"
                     for k, v in (("host", self.sock), ("port", self.port), ("user", DB_USER)))
        return f"postgresql:///{urllib.parse.quote(database)}?{q}"

    @property
    def url(self):
        """libpq URI of the database made at start (e.g. postgresql:///facekit?host=/tmp/fk-pg-x/sock&port=..)."""
        return self.url_of(self.database)

    def create_database(self, name):
        """CREATE DATABASE name; returns its libpq URI."""
        self.psql(f'CREATE DATABASE "{name}"', database="postgres")
        return self.url_of(name)

    def psql(self, sql, database=None):
        """Runs sql through psql (unaligned, tuples only, stop on error); returns stdout, stripped."""
        p = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.url_of(database or self.database), "-c", sql],
                           capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise RuntimeError(f"psql exited {p.returncode}: {p.stderr.strip()}")
        return p.stdout.strip()

    def log_tail(self, chars=4000):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""
