// Prints how long each step took after its upstream's marker, and checks that every job of the chain
// succeeded exactly once for every partition. It reads what run.sh saved: `cascade status --json`,
// GET /api/jobs (each job's `after`; this example has same-day inputs only) and the timeline of
// bucket.mjs and receiver.mjs (`marker|activated JOB PARTITION MILLISECONDS`, one clock).
//   node report.mjs STATUS_JSON JOBS_JSON TIMELINE PARTITION...     exit 1 when something is off
import { readFileSync } from 'node:fs';

const [statusFile, jobsFile, timelineFile, ...partitions] = process.argv.slice(2);
const runs = JSON.parse(readFileSync(statusFile, 'utf8'));
const jobs = JSON.parse(readFileSync(jobsFile, 'utf8'));
const timeline = readFileSync(timelineFile, 'utf8').split('\n').filter(Boolean).map((line) => {
  const [what, job, partition, ms] = line.split(' ');
  return { what, job, partition, ms: Number(ms) };
});
const problems = [];
const times = (what, job, partition) =>
  timeline.filter((t) => t.what === what && t.job === job && t.partition === partition).map((t) => t.ms);
const once = (what, job, partition) => {
  const found = times(what, job, partition);
  if (found.length !== 1) {
    problems.push(`${job} ${partition}: ${found.length} ${what === 'marker' ? 'markers written' : 'activations'}, not 1`);
  }
  return found[0] ?? NaN;
};
const clock = (ms) => new Date(ms).toISOString().slice(11, 23);

console.log("how long each step took after its upstream's marker was written to the bucket:");
console.log(`  ${'job'.padEnd(14)}${'partition'.padEnd(11)}${'activated after'.padEnd(17)}its marker after`);
let first = Infinity;
let last = -Infinity;
for (const partition of partitions) {
  for (const job of jobs) {
    const run = runs.find((r) => r.job === job.name && r.partition === partition);
    const remote = job.after.length > 0;
    if (!run) {
      problems.push(`${job.name} ${partition} has no run`);
    } else if (run.state !== 'succeeded' || run.generation !== 1 || run.attempt !== (remote ? 1 : 0)) {
      problems.push(`${job.name} ${partition} is ${run.state} (attempt ${run.attempt}, generation ${run.generation})`);
    }
    const marker = once('marker', job.name, partition);
    first = Math.min(first, marker);
    last = Math.max(last, marker);
    if (!remote) {
      console.log(`  ${job.name.padEnd(14)}${partition.padEnd(11)}${'(external)'.padEnd(17)}written at ${clock(marker)}`);
      continue;
    }
    const upstream = Math.max(...job.after.map((a) => times('marker', a.job, partition)[0] ?? NaN));
    const after = (ms) => (Number.isNaN(ms - upstream) ? '?' : `+${ms - upstream} ms`);
    console.log(`  ${job.name.padEnd(14)}${partition.padEnd(11)}${after(once('activated', job.name, partition)).padEnd(17)}${after(marker)}`);
  }
}
for (const run of runs.filter((r) => !partitions.includes(r.partition))) {
  problems.push(`unexpected run ${run.job} ${run.partition}`);
}
if (problems.length > 0) {
  console.log(`NOT OK: ${problems.join('; ')}`);
  process.exit(1);
}
console.log(`ok: ${runs.length} runs (${jobs.length} jobs x ${partitions.length} partitions) succeeded, each activated once; `
  + `${last - first} ms from the first player_entry marker to the last bi_import marker`);
