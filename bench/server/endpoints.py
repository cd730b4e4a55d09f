"""The ports a benchmark's server took: it binds "tcp://127.0.0.1:*" (the kernel's pick, at the
bind, so no other process can take the port first) and names them in its start-up line."""
import re
import time

WILDCARD = "tcp://127.0.0.1:*"
_BOUND = re.compile(r"bound face (tcp://\S+), pedestrian (tcp://\S+)")


def bound_endpoints(proc, log_path, timeout_s=600):
    """(face, pedestrian) endpoints once the server at `proc` has logged them to `log_path`."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        with open(log_path) as f:
            m = _BOUND.search(f.read())
        if m:
            return m.group(1), m.group(2)
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}; see {log_path}")
        time.sleep(0.1)
    raise SystemExit(f"server did not bind within {timeout_s} s; see {log_path}")
