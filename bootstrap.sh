#!/bin/sh
# mfl bootstrap: install what mfl needs on Debian 12 (as root), then run a job.
#
#   ./bootstrap.sh          install, then start mfld with examples/mfld.mfl (the main job)
#   ./bootstrap.sh test     install, then run the whole test suite
#   ./bootstrap.sh install  install only
#
# Installs Debian packages (once, after one `apt-get update`) and a virtual
# environment in .venv with mfl and its Python dependencies.  Safe to re-run.
set -eu
cd "$(dirname "$0")"
job=${1:-run}

APT_PACKAGES="m4 gcc python3-dev python3-venv libmilter-dev mailfromd libmail-dkim-perl opendkim-tools postfix"
missing=""
for p in $APT_PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "bootstrap: missing Debian packages:$missing (run as root to install them)" >&2
        exit 1
    fi
    echo "bootstrap: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # mailfromd's and postfix's packages would start their daemons: keep services down while
    # installing; postfix is only for tests/test_postfix_e2e.py (its own instance): no system config
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -q --no-install-recommends $missing >/dev/null
    rm -f /usr/sbin/policy-rc.d
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.mfl-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -e ".[test]"
    touch "$stamp"
fi

case "$job" in
    install) ;;
    run)
        # the main job: install mfld with the example filter (DKIM verify for incoming
        # mail, DKIM sign for local mail) and start it on the default socket
        .venv/bin/mfl lint examples/*.mfl
        ln -sf "$PWD/.venv/bin/mfld" /usr/local/bin/mfld
        ln -sf "$PWD/.venv/bin/mfl" /usr/local/bin/mfl
        domain=$(hostname -d 2>/dev/null || true); domain=${domain:-example.org}
        install -d -m 0755 /etc/mfl
        install -d -m 0750 -g mail /etc/mfl/keys
        [ -f /etc/mfl/mfld.mfl ] || install -m 0644 examples/mfld.mfl /etc/mfl/mfld.mfl
        if [ ! -f /etc/mfl/keys/mfl.key ]; then
            .venv/bin/mfl dkim keygen --domain "$domain" --selector mfl --out /etc/mfl/keys \
                | tee /etc/mfl/keys/dns-record.txt
            mv "/etc/mfl/keys/$domain.mfl.key" /etc/mfl/keys/mfl.key
            chgrp mail /etc/mfl/keys/mfl.key && chmod 0640 /etc/mfl/keys/mfl.key
        fi
        pidfile=/var/lib/mfld/mfld.pid
        if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "bootstrap: mfld is running: reloading /etc/mfl/mfld.mfl"
            kill -HUP "$(cat "$pidfile")"
            sleep 2
        else
            /usr/local/bin/mfld --no-config -v "DOMAIN=$domain" -v SELECTOR=mfl \
                -v KEYFILE=/etc/mfl/keys/mfl.key --pidfile "$pidfile" /etc/mfl/mfld.mfl
            i=0
            while [ ! -S /var/lib/mfld/mfld.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
        fi
        echo "bootstrap: mfld serves /etc/mfl/mfld.mfl on unix:/var/lib/mfld/mfld.sock"
        echo "bootstrap: a local message (signed):"
        .venv/bin/mfl milter-check unix:/var/lib/mfld/mfld.sock | cut -c1-100
        echo "bootstrap: an incoming message (verified):"
        .venv/bin/mfl milter-check unix:/var/lib/mfld/mfld.sock --client-addr 192.0.2.7
        echo "bootstrap: Postfix and Sendmail settings, systemd unit: examples/deploy/, docs/deploy.md"
        ;;
    test)
        shift
        set +e
        .venv/bin/python -m pytest -q "$@"
        rc=$?
        # pytest exits 5 when it collected no tests: that is a failure here
        [ "$rc" = 5 ] && echo "bootstrap: pytest collected no tests" >&2
        exit $rc
        ;;
    *) echo "usage: $0 [run|test|install]" >&2; exit 64 ;;
esac
