#!/usr/bin/env bash
# deps.sh: install the Debian packages cdp needs to build, test and demo,
# only those missing, so a second run costs nothing.
set -euo pipefail

packages=(
	make gcc g++ clang libclang-rt-14-dev
	postgresql-15 postgresql-server-dev-15 postgresql-common
	postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
	postgresql-15-pgrouting postgresql-15-cron
	libphonenumber-dev libidn2-dev libunistring-dev
	graphviz
	nodejs python3-psycopg2 python3-pandas
)
# npm comes with NodeSource's nodejs (which conflicts with Debian's npm)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages: ${missing[*]}; run as root or install them" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
