"""Run ``mailfromd --run SCRIPT ARGS...`` against a loopback DNS server, in
private network and mount namespaces: run as
``unshare -mn python3 mailfromd_ns.py ZONE.json SCRIPT ARGS...``.  Prints
the exit status, then what mailfromd wrote (stdout and stderr)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dkim_support import LoopbackDNS  # noqa: E402


def main():
    zone = json.load(open(sys.argv[1]))
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    fd, path = tempfile.mkstemp()
    os.write(fd, b"nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
    os.close(fd)
    subprocess.run(["mount", "--bind", path, "/etc/resolv.conf"], check=True)
    with LoopbackDNS(zone, port=53):
        r = subprocess.run(["mailfromd", "--no-site-config", "--run"] + sys.argv[2:],
                           capture_output=True, timeout=60)
    os.unlink(path)
    print(r.returncode)
    sys.stdout.write((r.stdout + r.stderr).decode(errors="replace"))


if __name__ == "__main__":
    main()
