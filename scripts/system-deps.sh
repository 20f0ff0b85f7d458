#!/usr/bin/env bash
# Debian packages the suite needs and pip cannot provide: PostgreSQL server, Chromium, CJK fonts.
# Installs only what is missing; fails loudly when something cannot be had.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "PostgreSQL server missing after install" >&2; exit 1; }
command -v chromium >/dev/null 2>&1 || { echo "chromium missing after install" >&2; exit 1; }
id postgres >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ] || { echo "the postgres system user is missing" >&2; exit 1; }
