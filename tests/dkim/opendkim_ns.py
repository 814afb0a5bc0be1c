"""Run opendkim-testmsg (verify mode) against a loopback DNS server, in
private network and mount namespaces: run as
``unshare -mn python3 opendkim_ns.py ZONE.json MESSAGE``.  Prints the
exit status and what opendkim-testmsg wrote."""
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
    with LoopbackDNS(zone, port=53), open(sys.argv[2], "rb") as msg:
        r = subprocess.run(["opendkim-testmsg"], stdin=msg, capture_output=True, timeout=30)
    os.unlink(path)
    print(r.returncode)
    sys.stdout.write((r.stdout + r.stderr).decode(errors="replace"))


if __name__ == "__main__":
    main()
