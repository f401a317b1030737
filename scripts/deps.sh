#!/bin/sh
# deps.sh - install the Debian 12 packages GACP needs to build, test and run.
#
# The one list of packages for the whole project.  Run as root, or as a user
# who already has them (then it only checks).  Safe to run repeatedly: it
# calls apt-get only when something is missing.
set -eu

GACP_PACKAGES="
build-essential autoconf automake libtool pkg-config
clang libclang-rt-14-dev
libfcgi-dev spawn-fcgi nginx-light
postgresql postgresql-client libpq-dev
redis-server redis-tools libhiredis-dev
libjson-c-dev libjwt-dev libssl-dev libcunit1-dev
libcurl4-openssl-dev libthai-dev libpcre2-dev libyaml-dev libcrypt-dev
wordnet-base
curl wrk python3 procps iproute2 openssl ca-certificates valgrind
systemd groff-base man-db
chromium chromium-driver
"
# wordnet-base: the WordNet database gacp-nlu train reads for its concept
# features (/usr/share/wordnet; models carry what they need of it).
# chromium and chromium-driver: tests/dashboard/run drives the operator
# dashboard in headless Chromium through chromedriver.
# node and npm for tests/openapi/check (which installs its pinned modules
# into var/node): Debian's packages, unless a node with npm is already
# there (NodeSource's nodejs ships its own npm and conflicts with Debian's).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	GACP_PACKAGES="$GACP_PACKAGES nodejs npm"
fi

missing=""
for p in $GACP_PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Packages must not start their own copies of the services: the stack runs
# private instances under var/.  policy-rc.d (exit 101) tells invoke-rc.d no.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
