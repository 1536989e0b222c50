#!/usr/bin/env bash
# Collects one hour of payments (fake amounts in cents derived from the date and hour).
# Usage: payments.sh DATE HOUR
set -euo pipefail
date="$1" hour="$2"
seed=$(printf '%s %s' "$date" "$hour" | cksum | cut -d' ' -f1)
cents=$((seed % 50000))
mkdir -p "data/payments/$date"
printf '%s\n' "$cents" > "data/payments/$date/$hour.txt"
echo "payments $date $hour:00: $cents cents (run $CASCADE_RUN_ID)"
