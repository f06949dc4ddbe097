#!/usr/bin/env bash
# install.sh: make Citus available to PostgreSQL 15, doing nothing when it is:
# the Debian package when a repository offers it, else a build of $CITUS_SRC or
# of the vendored release tarball, patched only when the server headers need it.
#
# Environment: CITUS_SRC (a source directory or a .tar.gz; default: the tarball
# in ../shared/vendor/citus/ beside the project), CITUS_PACKAGE (default
# postgresql-15-citus-13.2), PG_CONFIG (default PostgreSQL 15's pg_config).
# Quiet on success but for one line saying what it installed; on a failed build
# it prints the end of the build log.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${CDP_SHARED:-$(cd "$root/.." && pwd)/shared}
vendor=$shared/vendor/citus
package=${CITUS_PACKAGE:-postgresql-15-citus-13.2}

if [ -z "${PG_CONFIG:-}" ]; then
	if [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
		PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
	else
		PG_CONFIG=pg_config
	fi
fi

installed() {
	local lib share
	lib=$("$PG_CONFIG" --pkglibdir 2>/dev/null) || return 1
	share=$("$PG_CONFIG" --sharedir 2>/dev/null) || return 1
	[ -f "$lib/citus.so" ] && [ -f "$share/extension/citus.control" ]
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "citus: $1 needs root; run this script as root" >&2
		exit 1
	fi
}

# apt_install <package>...: install those not installed yet.
apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	need_root "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	local out
	out=$(mktemp)
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$out" 2>&1; then
		echo "citus: installing ${missing[*]} failed:" >&2
		tail -n 20 "$out" >&2
		rm -f "$out"
		exit 1
	fi
	rm -f "$out"
}

if installed; then
	exit 0
fi

# 1. The Debian package, when some configured repository has it.
candidate=$(apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ { print $2 }')
if [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then
	apt_install "$package"
	installed || { echo "citus: $package is installed but $("$PG_CONFIG" --pkglibdir)/citus.so is missing" >&2; exit 1; }
	echo "citus: installed $package $candidate"
	exit 0
fi

# 2. A build from source, outside the source tree.
src=${CITUS_SRC:-}
if [ -z "$src" ]; then
	src=$(printf '%s\n' "$vendor"/citus-*.tar.gz | sort -V | tail -n 1)
	[ -e "$src" ] || src=
	if [ -z "$src" ]; then
		echo "citus: $package is not offered by any repository, CITUS_SRC is not set and $vendor has no citus-*.tar.gz" >&2
		exit 1
	fi
fi
[ -e "$src" ] || { echo "citus: CITUS_SRC=$src does not exist" >&2; exit 1; }

need_root "installing Citus into $("$PG_CONFIG" --pkglibdir)"
apt_install make gcc postgresql-server-dev-15 liblz4-dev libzstd-dev libkrb5-dev libssl-dev

work=$(mktemp -d /tmp/citus-build.XXXXXX)
log=$work/build.log
trap 'rm -rf "$work"' EXIT
fail() {
	echo "citus: $1 failed; the end of $log:" >&2
	tail -n 40 "$log" >&2
	trap - EXIT	# keep the log
	exit 1
}

if [ -d "$src" ]; then
	cp -a "$src" "$work/src"
else
	mkdir "$work/src"
	tar -xzf "$src" -C "$work/src" --strip-components=1
fi
cd "$work/src"

# PostgreSQL 15.20 declares have_createdb_privilege(), which Citus 13.2.2 also
# defines static in pg_version_compat.h: remove Citus's copy only when both hold.
headers=$("$PG_CONFIG" --includedir-server)
if grep -q 'have_createdb_privilege' "$headers/commands/dbcommands.h" 2>/dev/null &&
	grep -q '^have_createdb_privilege(void)' src/include/pg_version_compat.h 2>/dev/null; then
	for patchfile in "$vendor"/*have_createdb_privilege*.patch; do
		[ -f "$patchfile" ] || { echo "citus: the server headers need $vendor/*have_createdb_privilege*.patch, which is missing" >&2; exit 1; }
		patch -p1 --dry-run -s <"$patchfile" >>"$log" 2>&1 || fail "checking $patchfile"
		patch -p1 -s <"$patchfile" >>"$log" 2>&1 || fail "applying $patchfile"
	done
fi

./configure --without-libcurl PG_CONFIG="$PG_CONFIG" >>"$log" 2>&1 || fail "configure"
make -j2 >>"$log" 2>&1 || fail "make"
make install >>"$log" 2>&1 || fail "make install"
installed || fail "the installation check"
echo "citus: built and installed $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$("$PG_CONFIG" --sharedir)/extension/citus.control") from $src"
