#!/bin/sh
# Makes sure the Temporal namespace Noor runs in exists and carries every custom search
# attribute Noor's workflows set (the list in workflows/names.go, SearchAttributes()).
#
# docker-compose.yml runs it once per `docker compose up` (service temporal-admin-tools,
# image temporalio/admin-tools) after the server is healthy and before the API and the
# worker start. Every step checks first, so running it again changes nothing. By hand,
# against any Temporal server reachable from where you run it:
#
#   TEMPORAL_ADDRESS=temporal.example.internal:7233 TEMPORAL_NAMESPACE=default \
#     sh deploy/temporal/register-search-attributes.sh
#
# `make run` and `make test` do not use this script: the dev server gets the same
# attributes from `noor dev` / `noor testenv` (--search-attribute flags).
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
# How long Temporal keeps the history of a closed workflow run (finished escalations,
# follow-ups, and the runs a conversation closed by continue-as-new).
RETENTION="${TEMPORAL_RETENTION:-30d}"
ATTEMPTS="${TEMPORAL_SETUP_ATTEMPTS:-60}"
PAUSE="${TEMPORAL_SETUP_PAUSE_SECONDS:-2}"

# name=Type, exactly as in workflows.SearchAttributes(). Keep the two lists equal: a
# workflow that upserts an attribute the namespace does not know fails its task.
ATTRIBUTES="
NoorStage=Keyword
NoorStatus=Keyword
NoorLanguage=Keyword
NoorOwner=Keyword
NoorLastActivity=Datetime
NoorConversationId=Keyword
"

say() { printf '[temporal-setup] %s\n' "$*"; }

t() { temporal --address "$ADDRESS" "$@"; }

# retry CMD...: runs CMD until it succeeds, at most $ATTEMPTS times.
retry() {
  n=1
  until "$@"; do
    if [ "$n" -ge "$ATTEMPTS" ]; then
      say "giving up after $ATTEMPTS attempts: $*"
      return 1
    fi
    n=$((n + 1))
    sleep "$PAUSE"
  done
}

say "waiting for the Temporal frontend at $ADDRESS"
retry t operator cluster health >/dev/null 2>&1
say "server is healthy"

if t operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  say "namespace $NAMESPACE exists"
else
  say "creating namespace $NAMESPACE (retention $RETENTION)"
  t operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
  # A new namespace reaches every server component's cache a few seconds later.
  retry t operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1
fi

# The list prints one attribute per line: name, then type.
current="$(retry t operator search-attribute list --namespace "$NAMESPACE")"
failed=0
for pair in $ATTRIBUTES; do
  name="${pair%%=*}"
  type="${pair#*=}"
  line="$(printf '%s\n' "$current" | awk -v n="$name" '$1 == n { print; exit }')"
  if [ -n "$line" ]; then
    have="$(printf '%s\n' "$line" | awk '{ print $2 }')"
    if [ "$have" = "$type" ]; then
      say "search attribute $name ($type) is registered"
    else
      say "ERROR: search attribute $name is registered as $have, Noor needs $type; fix it by hand"
      failed=1
    fi
    continue
  fi
  say "registering search attribute $name ($type)"
  retry t operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"
done

if [ "$failed" -ne 0 ]; then
  exit 1
fi
say "namespace $NAMESPACE is ready for Noor"
