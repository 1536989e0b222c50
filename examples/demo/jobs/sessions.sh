#!/usr/bin/env bash
# Builds the day's play sessions from the player count.
# Usage: sessions.sh YEAR MONTH DAY PLAYERS
set -euo pipefail
year="$1" month="$2" day="$3" players="$4"
sessions=$((players * 3 + 7))
mkdir -p data/sessions
printf 'date,sessions\n%s-%s-%s,%d\n' "$year" "$month" "$day" "$sessions" > "data/sessions/$year-$month-$day.csv"
echo "sessions $year-$month-$day: $sessions sessions from $players players"
# No marker written here: Cascade writes an empty one when the command exits 0.
