#!/bin/sh
# mfl bootstrap: install what mfl needs on Debian 12 (as root), then run a job.
#
#   ./bootstrap.sh          install, then lint the example filters (the main job for now)
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
        echo "bootstrap: linting examples/*.mfl with mfl"
        .venv/bin/mfl lint examples/*.mfl && echo "bootstrap: all examples are clean"
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
