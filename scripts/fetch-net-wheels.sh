#!/usr/bin/env bash
# The pinned pure-Python wheels of requests (+ urllib3, idna,
# charset-normalizer, certifi), scripts/requirements-net.txt, downloaded by
# scripts/fetch-wheels.sh; prints the directory. Used by
# host/tests/net_requests.rs and the network benchmark.
exec "$(dirname "$0")/fetch-wheels.sh" net
