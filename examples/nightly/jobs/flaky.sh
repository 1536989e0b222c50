#!/bin/sh
# Fails on its first two attempts, then succeeds (CASCADE_ATTEMPT counts attempts from 1).
echo "clean $CASCADE_DATE, attempt $CASCADE_ATTEMPT"
if [ "$CASCADE_ATTEMPT" -le 2 ]; then
  echo "upstream data not settled yet" >&2
  exit 1
fi
