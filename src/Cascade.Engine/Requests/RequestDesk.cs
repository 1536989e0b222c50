using System.Globalization;
using System.Text.Json;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Core.Scheduling;
using Cascade.Engine.Markers;
using Cascade.Engine.Runtime;
using Cascade.Engine.State;

namespace Cascade.Engine.Requests;

/// <summary>
/// The one request path (ADR 3, 11) behind both front doors, the CLI and the HTTP API: each write
/// is checked against the pipeline and the state, refused with a <see cref="RequestRefusedException"/>
/// before anything changes, or left as a request row that is committed and then rung to the
/// scheduler (a marker, for <see cref="WriteMarkersAsync"/>). Without a running scheduler the row
/// waits for the next <c>cascade run</c>, which takes it at start.
/// </summary>
public sealed class RequestDesk(Pipeline pipeline, string statePath, TimeProvider time, FrontDoor door)
{
    /// <summary>The most markers one request writes (about 11 years of hourly partitions).</summary>
    public const int MaxMarkers = 100_000;

    /// <summary>The longest backfill, in days (10 years).</summary>
    public const int MaxBackfillDays = 3660;

    public Pipeline Pipeline => pipeline;

    /// <summary>Triggers a run now, its inputs not checked (ADR 3: a succeeded or running run is refused).</summary>
    public async Task<long> TriggerAsync(IRunStore store, RunKey key, IReadOnlyDictionary<string, string> prms, CancellationToken ct)
    {
        if (pipeline[key.Job].Run is RunSpec.External)
        {
            throw new RequestRefusedException($"'{key.Job}' is an external job: Cascade never starts it. Mark it done with `cascade done {key.Job} {key.Partition.Key}`.", Refusal.Invalid, "job");
        }

        switch ((await store.GetRunAsync(key, ct))?.State)
        {
            case RunState.Succeeded:
                throw new RequestRefusedException($"{key.Job} {key.Partition.Key} already succeeded; to run it again, replay it", Refusal.Conflict);
            case RunState.Running:
                throw new RequestRefusedException($"{key.Job} {key.Partition.Key} is running now (see `cascade why {key.Job} {key.Partition.Key}`)", Refusal.Conflict);
        }

        return await LeaveAsync(store, new Request(Request.Trigger, key, prms, time.GetUtcNow()), ct);
    }

    /// <summary>The replay plan from the state as it is now (a missing state file: nothing has run).</summary>
    public async Task<ReplayPlan> PlanReplayAsync(IRunStore? store, string job, Partition from, Partition to, bool downstream, CancellationToken ct)
    {
        var known = new Dictionary<RunKey, Run?>();
        foreach (var run in store is null ? [] : await store.QueryRunsAsync(new RunQuery { Limit = int.MaxValue }, ct))
        {
            known[run.Key] = run;
        }

        return ReplayPlan.Create(pipeline, k => known.GetValueOrDefault(k), job, from, to, downstream, time.GetUtcNow());
    }

    /// <summary>Leaves the replay of <paramref name="plan"/>; runs running now are refused unless <paramref name="force"/>.</summary>
    public async Task<long> ReplayAsync(IRunStore store, ReplayPlan plan, string job, Partition from, Partition to, bool downstream, bool force, CancellationToken ct)
    {
        var running = plan.Running.ToList();
        if (running.Count > 0 && !force)
        {
            throw new RequestRefusedException($"refused: {string.Join(", ", running.Select(r => r.Key.ToString()))} {(running.Count == 1 ? "is" : "are")} running now. Wait for {(running.Count == 1 ? "it" : "them")}, or use {door.Force} to kill and replay.", Refusal.Conflict, door == FrontDoor.Api ? "force" : null);
        }

        return await LeaveAsync(store, Request.ForReplay(job, from, to, downstream, force, time.GetUtcNow()), ct);
    }

    /// <summary>What a cancel would cancel: the waiting, queued and running runs of a backfill, or of a job's range.</summary>
    public async Task<CancelPlan> PlanCancelAsync(IRunStore store, string? backfill, RunKey? key, Partition to, CancellationToken ct)
    {
        if ((key is null) == (backfill is null))
        {
            throw new RequestRefusedException(door == FrontDoor.Cli ? "give either JOB PARTITION[..PARTITION] or --backfill ID" : "give either job and partition, or backfill", Refusal.Invalid);
        }

        var what = key is not { } k ? "backfill " + backfill : k.Partition == to ? k.ToString() : $"{k.Job} {k.Partition.Key}..{to.Key}";
        var runs = await store.QueryRunsAsync(key is { } q ? new RunQuery { Job = q.Job, Limit = int.MaxValue } : new RunQuery { Backfill = backfill, Limit = int.MaxValue }, ct);
        if (backfill is not null && runs.Count == 0)
        {
            throw new RequestRefusedException($"no backfill '{backfill}' has runs in {Path.GetFileName(statePath)}", Refusal.NotFound, "backfill");
        }

        bool InRange(Run r) => key is not { } first || (r.Key.Partition >= first.Partition && r.Key.Partition <= to);
        var targets = runs.Where(r => r.State.IsCancellable() && InRange(r)).OrderBy(r => r.Key).ToList();
        return new CancelPlan(what, backfill, key, to, targets);
    }

    public async Task<long> CancelAsync(IRunStore store, CancelPlan plan, CancellationToken ct)
    {
        if (plan.Targets.Count == 0 && plan.Key is { } only && only.Partition != plan.To)
        {
            throw new RequestRefusedException($"nothing waiting, queued or running for {plan.What}: nothing to cancel", Refusal.Conflict);
        }

        return await LeaveAsync(store, Request.ForCancel(plan.Backfill, plan.Key, time.GetUtcNow(), plan.Key is null ? null : plan.To), ct);
    }

    /// <summary>Checks a backfill's range and jobs (dates as YYYY-MM-DD or YYYYMMDD) and makes its request (not yet left).</summary>
    public BackfillRequest PrepareBackfill(string fromText, string toText, IReadOnlyList<string> jobs, int? maxParallel)
    {
        var first = Date(fromText, door.From);
        var last = Date(toText, door.To);
        if (last < first)
        {
            throw new RequestRefusedException($"{door.To} {last:yyyy-MM-dd} is before {door.From} {first:yyyy-MM-dd}", Refusal.Invalid, door.To);
        }

        if (last.DayNumber - first.DayNumber > MaxBackfillDays)
        {
            throw new RequestRefusedException("a backfill covers at most 10 years; split it", Refusal.Invalid, door.To);
        }

        var names = jobs.Select(j => Targets.Job(pipeline, j, door.Job).Name).Distinct().ToList();
        foreach (var name in names.Where(n => pipeline[n].Run is RunSpec.External))
        {
            throw new RequestRefusedException($"'{name}' is an external job: Cascade only tracks it and cannot run it.{StartAfter([name], first, last)}", Refusal.Invalid, door.Job);
        }

        if (maxParallel is < 1)
        {
            throw new RequestRefusedException($"{door.MaxParallel} must be 1 or more", Refusal.Invalid, door.MaxParallel);
        }

        var notes = new List<string>();
        var startJobs = names.Count > 0 ? names : RootsToRun(first, last, notes);
        var now = time.GetUtcNow();
        var id = "bf-" + now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..4];
        return new BackfillRequest(id, first, last, names, startJobs, maxParallel, notes, Request.ForBackfill(id, names, first, last, maxParallel, now));
    }

    /// <summary>Leaves a prepared backfill; <paramref name="ring"/> false when this process runs the scheduler that takes it.</summary>
    public Task<long> BackfillAsync(IRunStore store, BackfillRequest backfill, CancellationToken ct, bool ring = true) =>
        LeaveAsync(store, backfill.Request, ct, ring);

    /// <summary>
    /// Writes the done markers of a partition or range (as <c>cascade done</c>): every existing marker
    /// is found before anything is written, so a refused range changes nothing; each marker is written
    /// atomically. Returns the keys written and how many replaced an existing marker.
    /// </summary>
    public async Task<(IReadOnlyList<RunKey> Keys, int Replaced)> WriteMarkersAsync(IMarkerStore store, string job, string partitions, MarkerBody body, bool force, CancellationToken ct)
    {
        var name = Targets.Job(pipeline, job).Name;
        if (body.Meta.ContainsKey("params"))
        {
            throw new RequestRefusedException($"{door.Meta} params=… is not allowed: 'params' holds the params of the marker; use {door.Param}", Refusal.Invalid, door.Meta);
        }

        var keys = Keys(name, partitions);
        // Every existing marker is found before anything is written: a refused range changes nothing.
        var existing = await ExistingAsync(store, keys, ct);
        if (existing.Count > 0 && !force)
        {
            var location = store.Locate(existing[0]);
            var shown = location.StartsWith("s3://", StringComparison.Ordinal) ? location : Path.GetRelativePath(Environment.CurrentDirectory, location);
            throw new RequestRefusedException(keys.Count == 1
                ? $"{shown} exists already: {name} {existing[0].Partition.Key} is done. Its body is kept; a new one would not re-run what ran on it (use `cascade replay {name} {existing[0].Partition.Key}` for that, or {door.Force} to replace the marker anyway)"
                : $"{existing.Count} of the {keys.Count} markers of {name} {partitions} exist already ({string.Join(", ", existing.Take(5).Select(k => k.Partition.Key))}{(existing.Count > 5 ? ", …" : string.Empty)}); nothing was written. Their bodies are kept; new ones would not re-run what ran on them (use `cascade replay {name} {partitions}` for that, or {door.Force} to replace them anyway)",
                Refusal.Conflict,
                door.Partition);
        }

        foreach (var key in keys)
        {
            await store.WriteAsync(key, body, ct); // each one atomically (a temporary file renamed into place)
        }

        return (keys, existing.Count);
    }

    /// <summary>
    /// The keys that have a marker already: by name in a folder; in a bucket one read per key for a
    /// few keys, else one listing of the store (a range of 100,000 keys is ~100 list requests, not 100,000 reads).
    /// </summary>
    private static async Task<List<RunKey>> ExistingAsync(IMarkerStore store, IReadOnlyList<RunKey> keys, CancellationToken ct)
    {
        if (store is Markers.Folder.FolderMarkerStore)
        {
            return keys.Where(k => File.Exists(store.Locate(k))).ToList();
        }

        if (keys.Count <= 20)
        {
            var found = new List<RunKey>();
            foreach (var key in keys)
            {
                if (await store.ReadStoredAsync(key, ct) is { } stored)
                {
                    if (stored.NotAMarker is { } reason)
                    {
                        throw new IOException($"marker {store.Locate(key)} {reason}; nothing was written");
                    }

                    found.Add(key);
                }
            }

            return found;
        }

        var listed = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var entry in store.ScanAsync(ct))
        {
            listed.Add(entry.RelativePath);
        }

        return keys.Where(k => listed.Contains(store.Layout.Format(k))).ToList();
    }

    /// <summary>A marker body's metadata value as a person typed it: numbers and true/false stay JSON values, the rest strings.</summary>
    public static JsonElement MetaValue(string text)
    {
        if (text is "true" or "false" || double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            try
            {
                return JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                // not a JSON literal after all (e.g. "1e"): keep it a string
            }
        }

        return JsonSerializer.SerializeToElement(text, EngineJson.Default.String);
    }

    private List<RunKey> Keys(string job, string text)
    {
        var (from, to) = Targets.Range(pipeline, job, text, door.Partition);
        var span = from.Grain == Grain.Daily
            ? to.Date.DayNumber - from.Date.DayNumber
            : (long)(to.Start - from.Start).TotalHours;
        if (span >= MaxMarkers)
        {
            throw new RequestRefusedException($"the range {text} holds {span + 1:N0} partitions; one `cascade done` writes at most {MaxMarkers:N0} markers: split the range", Refusal.Invalid, door.Partition);
        }

        var keys = new List<RunKey>((int)span + 1);
        for (var p = from; p <= to; p = p.Add(1))
        {
            keys.Add(new RunKey(job, p));
        }

        return keys;
    }

    /// <summary>Leaves the markers a notification named (<see cref="Request.Notice"/>) and rings the scheduler: the notification intake's queue.</summary>
    public Task<long> LeaveNoticesAsync(IRunStore store, Request notices, CancellationToken ct) =>
        notices.Kind == Request.Notice ? LeaveAsync(store, notices, ct) : throw new ArgumentException("not a notice request", nameof(notices));

    /// <summary>Commits the request row, then rings the scheduler (which never fails or waits: the poll is the safety net).</summary>
    private async Task<long> LeaveAsync(IRunStore store, Request request, CancellationToken ct, bool ring = true)
    {
        var id = await store.EnqueueRequestAsync(request, ct);
        if (ring)
        {
            SchedulerLock.Ring(statePath);
        }

        return id;
    }

    private static DateOnly Date(string text, string option) =>
        !DateOnly.TryParseExact(text, ["yyyy-MM-dd", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? throw new RequestRefusedException($"{option} '{text}' is not a date (YYYY-MM-DD)", Refusal.Invalid, option)
            : !Partition.IsSupportedDate(d)
                ? throw new RequestRefusedException(Partition.RangeError($"{option} {d:yyyy-MM-dd}"), Refusal.Invalid, option)
                : d;

    /// <summary>
    /// The roots a default backfill starts from: the command roots. Roots that are external (Cascade
    /// only tracks them) are skipped with a note; when every root is, the backfill is refused with the jobs to name.
    /// </summary>
    private List<string> RootsToRun(DateOnly first, DateOnly last, List<string> notes)
    {
        var roots = pipeline.Jobs.Where(j => j.IsRoot).ToList();
        var runnable = roots.Where(j => j.Run is RunSpec.Command).Select(j => j.Name).ToList();
        var external = roots.Where(j => j.Run is RunSpec.External).Select(j => j.Name).ToList();
        var suggestion = StartAfter(external, first, last);
        if (runnable.Count == 0)
        {
            throw new RequestRefusedException($"every root job is external ({string.Join(", ", external)}): Cascade only tracks it and cannot run it, so a backfill from the roots would run nothing.{suggestion}", Refusal.Invalid, door.Job);
        }

        if (external.Count > 0)
        {
            notes.Add($"note: the external root job(s) {string.Join(", ", external)} are not run (Cascade only tracks them).{suggestion}");
        }

        return runnable;
    }

    /// <summary>The advice for external jobs: backfill from the command jobs right after them.</summary>
    private string StartAfter(List<string> external, DateOnly first, DateOnly last)
    {
        var after = external.SelectMany(pipeline.DownstreamJobs).Where(j => j.Run is RunSpec.Command).Select(j => j.Name).Distinct().ToList();
        return after.Count == 0
            ? string.Empty
            : $" Backfill from the job(s) after {(external.Count == 1 ? "it" : "them")}: cascade backfill --from {first:yyyy-MM-dd} --to {last:yyyy-MM-dd} {string.Join(" ", after.Select(j => "--job " + j))}";
    }
}

/// <summary>What a cancel is about and the runs it would cancel now.</summary>
public sealed record CancelPlan(string What, string? Backfill, RunKey? Key, Partition To, IReadOnlyList<Run> Targets);

/// <summary>A checked backfill: its id, range, the jobs named (none: the command roots) and those it starts from, and its request row.</summary>
public sealed record BackfillRequest(string Id, DateOnly From, DateOnly To, IReadOnlyList<string> Jobs, IReadOnlyList<string> StartJobs, int? MaxParallel, IReadOnlyList<string> Notes, Request Request);
