#!/bin/sh
# Writes the secret files compose.yaml mounts, under ./secrets beside this
# script. Existing files are kept, so running it again changes nothing.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets

if [ ! -s secrets/postgres_password ]; then
  openssl rand -hex 24 > secrets/postgres_password    # hex: nothing to escape in the URL
fi
if [ ! -s secrets/database_url ]; then
  printf 'postgres://islet:%s@postgres:5432/islet\n' "$(cat secrets/postgres_password)" > secrets/database_url
fi
if [ ! -s secrets/secret_key_base ]; then
  openssl rand -hex 64 > secrets/secret_key_base
fi

# Compose mounts the files as they are: each must be readable by the user
# reading it inside its container, Islet's "node" (uid 1000) and PostgreSQL's
# "postgres" (uid 999, which reads its password after dropping root).
if [ "$(id -u)" -eq 0 ]; then
  chown 1000:1000 secrets/database_url secrets/secret_key_base
  chown 999:999 secrets/postgres_password
  [ ! -e secrets/smtp_password ] || chown 1000:1000 secrets/smtp_password
  chmod 0400 secrets/*
else
  echo "make-secrets.sh: not root, so the files stay owned by you; run it with sudo for the container users (or chmod 0444 secrets/*)" >&2
fi
ls -l secrets
