#!/bin/sh
# Registers the namespace and the project's search attributes on a fresh Temporal cluster, then
# waits until each attribute can be used: a new cluster (unlike the dev server) takes about a
# second to see an attribute it has just registered, and a harvest started before then fails.
# The same script for the native cluster stack and the compose `temporal-setup` job.
#   TEMPORAL_ADDRESS    host:port of the frontend
#   NAMESPACE           default "default";  RETENTION  default 720h
#   SEARCH_ATTRIBUTES   "Name=Type Name=Type …" (src/shared/search-attributes.ts)
#   TEMPORAL_CLI        the Temporal CLI (default: temporal on PATH)
set -eu
cli="${TEMPORAL_CLI:-temporal}"
ns="${NAMESPACE:-default}"
# Bounded retries: 60 tries, 1 s apart, for each thing the cluster must become ready for.
retry() {
  what="$1"; shift
  tries=0
  until "$@" > /dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "setup-namespace: $what did not happen within 60 s" >&2; "$@"; exit 1; }
    sleep 1
  done
}
retry "the cluster serving" "$cli" operator cluster health --address "$TEMPORAL_ADDRESS"
"$cli" operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$ns" > /dev/null 2>&1 ||
  "$cli" operator namespace create --address "$TEMPORAL_ADDRESS" -n "$ns" --retention "${RETENTION:-720h}"
retry "namespace $ns becoming usable" "$cli" operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$ns"
for pair in ${SEARCH_ATTRIBUTES:-}; do
  name="${pair%%=*}"
  type="${pair#*=}"
  "$cli" operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$ns" | grep -qw "$name" ||
    "$cli" operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$ns" --name "$name" --type "$type"
done
for pair in ${SEARCH_ATTRIBUTES:-}; do
  name="${pair%%=*}"
  # A visibility query that names the attribute is refused until the frontend knows it.
  retry "search attribute $name becoming usable" \
    "$cli" workflow list --address "$TEMPORAL_ADDRESS" -n "$ns" --limit 1 --query "$name IS NOT NULL"
done
