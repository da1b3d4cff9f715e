#!/bin/sh
# One-shot (temporalio/admin-tools): wait until the cluster serves, then make sure the
# namespace and the project's search attributes exist (domain/search_attributes.py; the demo
# registers them too, but `place_order` and the workers expect them already there).
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
SEARCH_ATTRIBUTES="OrderId OrderStatus OrderStyle CustomerId"

tries=0
until temporal operator cluster health --address "$ADDRESS"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "Temporal at $ADDRESS is not serving after $tries tries" >&2
        exit 1
    fi
    sleep 2
done

temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1 \
    || temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention 72h

known=$(temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE")
for name in $SEARCH_ATTRIBUTES; do
    if ! echo "$known" | grep -qw "$name"; then
        temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
            --name "$name" --type Keyword
    fi
done
echo "namespace $NAMESPACE is ready with the search attributes $SEARCH_ATTRIBUTES"
