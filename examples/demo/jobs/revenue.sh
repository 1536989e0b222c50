#!/usr/bin/env bash
# Sums the day's 24 hours of payments and keeps a running total with yesterday's revenue.
# Usage: revenue.sh DATE CURRENCY
set -euo pipefail
date="$1" currency="$2"
yesterday=$(date -u -d "$date - 1 day" +%F)
day_cents=$(cat "data/payments/$date"/*.txt | awk '{ s += $1 } END { print s + 0 }')
hours=$(ls "data/payments/$date" | wc -l)
before=0
if [ -f "data/revenue/$yesterday.csv" ]; then
  before=$(tail -n 1 "data/revenue/$yesterday.csv" | cut -d, -f3)
fi
total=$((before + day_cents))
mkdir -p data/revenue
printf 'date,day_cents,total_cents,currency\n%s,%d,%d,%s\n' "$date" "$day_cents" "$total" "$currency" > "data/revenue/$date.csv"
echo "revenue $date: $day_cents cents from $hours hours; running total $total $currency cents"
printf '{"hours": %d, "params": {"revenue_cents": "%d"}}' "$hours" "$day_cents" > "$CASCADE_MARKER.tmp"
mv "$CASCADE_MARKER.tmp" "$CASCADE_MARKER"
