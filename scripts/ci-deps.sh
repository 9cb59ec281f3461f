#!/usr/bin/env bash
# Installs the programs test/deploy/deploy.test.ts checks the deployment
# files with, from Debian's packages: nginx, caddy, nix-instantiate,
# systemd-analyze, openssl and the shell script linter, the chromium the
# browser tests drive, and ffmpeg for video and audio processing. Already installed ones are skipped, so
# a warm machine spends no time here. Never fails: without apt-get, without
# root, or when apt fails, it prints one line and exits 0, and the tests
# that need a missing program skip with the reason.
set -u

# command:package
wanted=(
  nginx:nginx
  caddy:caddy
  nix-instantiate:nix-bin
  systemd-analyze:systemd
  openssl:openssl
  shellcheck:shellcheck
  chromium:chromium
  ffmpeg:ffmpeg
)

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing=()
for pair in "${wanted[@]}"; do
  have "${pair%%:*}" || missing+=("${pair#*:}")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "ci-deps: nginx, caddy, nix-instantiate, systemd-analyze, openssl, shellcheck, chromium and ffmpeg already installed"
  exit 0
fi
if ! have apt-get; then
  echo "ci-deps: no apt-get here; not installing ${missing[*]} (tests needing them skip)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ci-deps: not root; not installing ${missing[*]} (tests needing them skip)"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"

# Installing nginx or caddy starts it on port 80 unless a policy says no;
# only the checkers are wanted here, not running servers.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy" && made_policy=1
fi
trap 'rm -f "$log"; [ -z "$made_policy" ] || rm -f "$policy"' EXIT

echo "ci-deps: installing ${missing[*]}"
if ! apt-get update -qq >"$log" 2>&1; then
  echo "ci-deps: apt-get update failed; not installing ${missing[*]} (tests needing them skip):"
  tail -n 5 "$log"
  exit 0
fi
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  echo "ci-deps: apt-get install ${missing[*]} failed (tests needing them skip):"
  tail -n 5 "$log"
  exit 0
fi
echo "ci-deps: installed ${missing[*]}"
exit 0
