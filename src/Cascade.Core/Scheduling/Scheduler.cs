using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using static Cascade.Core.Scheduling.SchedulerEffect;
using static Cascade.Core.Scheduling.SchedulerInput;

namespace Cascade.Core.Scheduling;

/// <summary>
/// The scheduler core: a deterministic state machine. <see cref="Handle"/> takes one input and
/// returns the effects to carry out, in order; the same inputs always give the same effects.
/// No I/O, no clock, no randomness: times and results arrive inside the inputs.
/// </summary>
/// <remarks>
/// Invariants (each is a property test):
/// a run is started only when every input is done or satisfied by start (or it was triggered or
/// scheduled); a run is activated at most once per generation (retries are attempts of that
/// activation); every <see cref="RunChanged"/> precedes the <see cref="StartRun"/> it enables.
/// The concerns live in partial files: activation (here), time rules (Scheduler.Time.cs),
/// broken chains (Scheduler.Breakage.cs).
/// </remarks>
public sealed partial class Scheduler
{
    private readonly Pipeline _pipeline;

    // Jobs with a schedule or a deadline: the only ones NextWakeAt, asked on every loop pass, looks at.
    private readonly JobDefinition[] _timedJobs;
    private readonly SchedulerOptions _options;
    private readonly Dictionary<RunKey, Run> _runs = [];
    private readonly SortedSet<RunKey> _ready = [];
    private readonly SortedSet<(DateTimeOffset At, RunKey Key)> _retries = [];
    private readonly Dictionary<RunKey, (int Generation, int Attempt, string? Backfill)> _inFlight = [];
    private readonly Dictionary<string, int> _runningPerJob = new(StringComparer.Ordinal);
    private List<SchedulerEffect> _effects = [];
    private bool _stopping;
    private bool _held;
    private List<RunKey> _doneWhileHeld = [];
    private readonly Dictionary<RunKey, (IReadOnlyList<InputRequirement> Inputs, int FirstMissing)> _waitingInputs = [];
    private DateTimeOffset _now;

    public Scheduler(Pipeline pipeline, SchedulerOptions options, IEnumerable<Run>? restored = null)
        : this(pipeline, options, new SchedulerSnapshot([.. restored ?? []], new Dictionary<string, string>()))
    {
    }

    public Scheduler(Pipeline pipeline, SchedulerOptions options, SchedulerSnapshot snapshot)
    {
        _pipeline = pipeline;
        _timedJobs = [.. pipeline.Jobs.Where(j => j.Schedule is not null || j.Deadline is not null)];
        _options = options;
        _held = options.HoldUntilStarted;
        foreach (var run in snapshot.Runs)
        {
            if (!pipeline.Contains(run.Key.Job))
            {
                continue;
            }

            _runs[run.Key] = run;
            NoteRunSpan(run.Key.Partition);
            if (run.State == RunState.Queued)
            {
                if (run.NextRetryAt is { } due)
                {
                    _retries.Add((due, run.Key));
                }
                else
                {
                    _ready.Add(run.Key);
                }
            }
            else if (run is { State: RunState.Waiting, WaitDeadline: { } deadline })
            {
                _waitDeadlines.Add((deadline, run.Key));
            }
        }

        RestoreCursors(snapshot.Cursors);
        RestoreBackfills(snapshot.Cursors);
    }

    public Pipeline Pipeline => _pipeline;

    /// <summary>Nothing queued, running or waiting for a retry (runs waiting for inputs may remain).</summary>
    public bool IsIdle => _ready.Count == 0 && _retries.Count == 0 && _inFlight.Count == 0;

    public int RunningCount => _inFlight.Count;

    public IEnumerable<Run> Runs => _runs.Values;

    public Run? Get(RunKey key) => _runs.GetValueOrDefault(key);

    public bool IsDone(RunKey key) => _runs.TryGetValue(key, out var r) && r.IsDone;

    /// <summary>An input of <paramref name="key"/> is met when it is done or satisfied by <c>start</c>.</summary>
    private bool IsMet(RunKey key, InputRequirement input) => IsDone(input.Key) || _pipeline.IsSatisfiedByStart(key, input);

    /// <summary>Every input of the run is met.</summary>
    private bool InputsReady(RunKey key) => _pipeline.InputsOf(key).All(i => IsMet(key, i));

    public IReadOnlyList<SchedulerEffect> Handle(SchedulerInput input)
    {
        _effects = [];
        if (input.At > _now)
        {
            _now = input.At;
        }

        switch (input)
        {
            case MarkerObserved m:
                _ = MarkDone(m.Key, m.Body, m.At, exitCode: null, writtenAt: m.WrittenAt);
                break;
            case ReplayRequested r:
                OnReplay(r);
                break;
            case BackfillRequested b:
                OnBackfill(b);
                break;
            case CancelRequested c:
                OnCancel(c);
                break;
            case MarkersObserved batch:
                OnMarkers(batch);
                break;
            case RunExited e:
                OnExited(e);
                break;
            case RunNotStarted n:
                OnNotStarted(n);
                break;
            case RunFailed f:
                OnFailed(f);
                break;
            case TriggerRequested t:
                OnTrigger(t);
                break;
            case TimePassed:
                break;
            case SchedulerStarted s:
                OnStarted(s.At);
                break;
            case StopRequested:
                _stopping = true;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input, "unknown input");
        }

        // Time rules run only when told the time has come, so a batch of markers (a rescan after
        // downtime) is fully read before any deadline is judged.
        if (!_stopping && input is TimePassed or SchedulerStarted)
        {
            AdvanceClock(input.At);
        }

        Dispatch(input.At);
        return _effects;
    }

    private void OnMarkers(MarkersObserved batch)
    {
        var done = new List<RunKey>(batch.Markers.Count);
        foreach (var (key, body, writtenAt) in batch.Markers)
        {
            if (MarkDone(key, body, batch.At, exitCode: null, writtenAt, evaluateDownstream: false))
            {
                done.Add(key);
            }
        }

        if (_held)
        {
            return; // judged in OnStarted, once every marker of the start-up rescan is known
        }

        foreach (var key in done)
        {
            foreach (var downstream in _pipeline.DownstreamOf(key))
            {
                Evaluate(downstream, batch.At);
            }
        }
    }

    /// <summary>Marks a run done; returns whether it changed (so its downstream runs need a look).</summary>
    private bool MarkDone(RunKey key, MarkerBody body, DateTimeOffset at, int? exitCode, DateTimeOffset? writtenAt = null, bool evaluateDownstream = true)
    {
        if (!_pipeline.TryGetJob(key.Job, out var job))
        {
            Warn($"marker for unknown job '{key.Job}' ({key.Partition.Key}) ignored");
            return false;
        }

        if (job.Grain != key.Partition.Grain)
        {
            Warn($"marker {key} ignored: job '{key.Job}' is {job.Grain.ToString().ToLowerInvariant()}, the partition is not");
            return false;
        }

        if (!key.Partition.IsSupported)
        {
            Warn($"marker {key} ignored: " + Partition.RangeError($"partition {key.Partition.Key}"));
            return false;
        }

        var run = _runs.GetValueOrDefault(key);
        if (run is { IsDone: true })
        {
            return false;
        }

        if (run is { IsBroken: true } && exitCode is null)
        {
            RecordLateMarker(run, at);
            return false;
        }

        if (exitCode is null && IsStale(run, writtenAt))
        {
            // Left behind (e.g. a crash between the replay's commit and the move): move it aside now.
            Warn($"stale marker for {key} ignored and moved aside: written {writtenAt:O}, before generation {run!.Generation} was opened");
            _effects.Add(new SupersedeMarker(key, run.Generation - 1));
            return false;
        }

        Unqueue(key);
        var warnings = body.Warning is null ? run?.Warnings ?? [] : [.. run?.Warnings ?? [], body.Warning];
        var done = (run ?? NewRun(key, at)) with
        {
            State = RunState.Succeeded,
            FinishedAt = at,
            NextRetryAt = null,
            WaitDeadline = null,
            Marker = body,
            ExitCode = exitCode ?? run?.ExitCode,
            Reason = null,
            Warnings = warnings,
        };
        Change(done, "succeeded", exitCode is null ? "done marker observed" : $"exit {exitCode}", quiet: run is null);
        OnSucceeded(done, at);
        if (_held)
        {
            // Reading the store on start: judge the runs below once every marker is known.
            _doneWhileHeld.Add(key);
            return true;
        }

        if (evaluateDownstream)
        {
            foreach (var downstream in _pipeline.DownstreamOf(key))
            {
                Evaluate(downstream, at);
            }
        }

        return true;
    }

    private void Evaluate(RunKey key, DateTimeOffset at)
    {
        if (!_pipeline.CanHaveRun(key))
        {
            return;
        }

        var run = _runs.GetValueOrDefault(key);
        if (run is { State: RunState.TimedOut })
        {
            RecordLateInputs(run, at);
            return;
        }

        if (run is not null && run.State != RunState.Waiting)
        {
            return;
        }

        if (run is not null && TryEvaluateFromHint(run, at))
        {
            return;
        }

        var inputs = _pipeline.InputsOf(key);
        var anyDone = false;
        var sameDayDone = false;
        var allDone = true;
        RunKey? brokenInput = null;
        foreach (var input in inputs)
        {
            var up = _runs.GetValueOrDefault(input.Key);
            if (up is { IsDone: true })
            {
                anyDone = true;
                sameDayDone |= input.Dependency.Offset == 0;
            }
            else if (_pipeline.IsSatisfiedByStart(key, input))
            {
                continue;
            }
            else
            {
                allDone = false;
                if (up is { IsBroken: true })
                {
                    brokenInput ??= input.Key;
                }
            }
        }

        if (brokenInput is { } broken)
        {
            if (run is not null || anyDone)
            {
                MarkUpstreamFailed(key, broken, at);
            }

            return;
        }

        if (run is null)
        {
            if (!anyDone)
            {
                return;
            }

            run = NewRun(key, at);
            Change(run, "waiting", allDone ? null : "first input done");
        }

        if (allDone && _pipeline[key.Job].Run is not RunSpec.External)
        {
            _waitingInputs.Remove(key);
            Enqueue(run, "inputs", at);
            return;
        }

        if (sameDayDone)
        {
            ArmWaitDeadline(run, at);
        }

        // Remember where the first missing input is: a fan-in of n inputs then costs O(n) in all,
        // not O(n) per finished input.
        var first = 0;
        while (first < inputs.Count && IsMet(key, inputs[first]))
        {
            first++;
        }

        _waitingInputs[key] = (inputs, first);
    }

    /// <summary>
    /// The fast path for a waiting run already judged once: inputs before the remembered one are done
    /// (done never reverts; a replay clears the cache), so the scan resumes there. Returns false
    /// when the full judgement is needed (no cache yet, or its wait deadline still to be armed).
    /// </summary>
    private bool TryEvaluateFromHint(Run run, DateTimeOffset at)
    {
        var job = _pipeline[run.Key.Job];
        if (!_waitingInputs.TryGetValue(run.Key, out var cached) || (run.WaitDeadline is null && job.WaitTimeout is not null))
        {
            return false;
        }

        var (inputs, first) = cached;
        while (first < inputs.Count && IsMet(run.Key, inputs[first]))
        {
            first++;
        }

        if (first < inputs.Count)
        {
            _waitingInputs[run.Key] = (inputs, first);
            return true;
        }

        _waitingInputs.Remove(run.Key);
        return false; // all done: the full path queues it (and checks everything once more)
    }

    private void Enqueue(Run run, string cause, DateTimeOffset at)
    {
        DisarmWaitDeadline(run);
        if (cause == "inputs" && run.Backfill is null)
        {
            // Runs that follow a backfill's runs belong to it (and to its limit).
            run = run with { Backfill = _pipeline.InputsOf(run.Key).Where(i => i.Dependency.Offset == 0).Select(i => _runs.GetValueOrDefault(i.Key)?.Backfill).FirstOrDefault(b => b is not null) };
        }

        var queued = run with
        {
            State = RunState.Queued,
            QueuedAt = at,
            Cause = cause == "inputs" && run.Cause is "replay" or "backfill" ? run.Cause : cause,
            NextRetryAt = null,
            WaitDeadline = null,
            FinishedAt = null,
            Params = ParamsFor(run),
        };
        _ready.Add(run.Key);
        Change(queued, "queued", cause switch { "inputs" => "all inputs done", _ => cause });
    }

    /// <summary>Job defaults, then same-partition inputs' marker params in <c>after</c> order, then trigger params.</summary>
    private SortedDictionary<string, string> ParamsFor(Run run)
    {
        var job = _pipeline[run.Key.Job];
        var result = new SortedDictionary<string, string>(job.Params.ToDictionary(), StringComparer.Ordinal);
        foreach (var input in _pipeline.InputsOf(run.Key))
        {
            if (input.Dependency.Offset == 0 && _runs.TryGetValue(input.Key, out var up) && up.Marker is { } marker)
            {
                foreach (var (k, v) in marker.Params)
                {
                    result[k] = v;
                }
            }
        }

        foreach (var (k, v) in run.TriggerParams)
        {
            result[k] = v;
        }

        return result;
    }

    /// <summary>Starts queued runs in partition order while the limits allow (again if an activation error freed a slot).</summary>
    private void Dispatch(DateTimeOffset at)
    {
        while (DispatchOnce(at))
        {
        }
    }

    private bool DispatchOnce(DateTimeOffset at)
    {
        if (_stopping || _held || _ready.Count == 0 || _inFlight.Count >= _options.MaxParallel)
        {
            return false;
        }

        List<RunKey>? toStart = null;
        var planned = new Dictionary<string, int>(StringComparer.Ordinal);
        var free = _options.MaxParallel - _inFlight.Count;
        foreach (var key in _ready)
        {
            if (free == 0)
            {
                break;
            }

            var limit = _pipeline[key.Job].MaxParallel ?? int.MaxValue;
            var running = _runningPerJob.GetValueOrDefault(key.Job) + planned.GetValueOrDefault(key.Job);
            var run = _runs[key];

            // An attempt of an older generation that is being killed still holds the key's slot.
            if (running >= limit || !BackfillHasRoom(run, planned) || _inFlight.ContainsKey(key))
            {
                continue;
            }

            planned[key.Job] = planned.GetValueOrDefault(key.Job) + 1;
            if (run.Backfill is { } backfill)
            {
                planned["backfill:" + backfill] = planned.GetValueOrDefault("backfill:" + backfill) + 1;
            }

            (toStart ??= []).Add(key);
            free--;
        }

        var failedToStart = false;
        foreach (var key in toStart ?? [])
        {
            _ready.Remove(key);
            Start(_runs[key], at);
            failedToStart |= !_inFlight.ContainsKey(key);
        }

        return failedToStart;
    }

    private void Start(Run run, DateTimeOffset at)
    {
        var job = _pipeline[run.Key.Job];
        var attempt = run with { Attempt = run.Attempt + 1 };
        if (job.Run is RunSpec.External)
        {
            Change(attempt with { State = RunState.Waiting }, "waiting", "external job: waiting for its marker");
            return;
        }

        var values = Placeholders.BuiltIns(run.Key, attempt.RunId, attempt.Attempt);
        var missing = new List<string>();
        var argv = new List<string>();
        IReadOnlyList<string> templates;
        string where;
        if (job.Run is RunSpec.Command command)
        {
            templates = command.Argv;
            where = "run.command";
            foreach (var template in command.Argv)
            {
                Placeholders.TryRender(template, values, run.Params, out var arg, out var miss);
                argv.Add(arg);
                missing.AddRange(miss);
            }
        }
        else
        {
            // An HTTP activation is rendered by its executor (URL- and JSON-escaping); here only what is missing.
            templates = [.. ((RunSpec.Http)job.Run).Request.PlaceholderTemplates()];
            where = "run.http";
            foreach (var template in templates)
            {
                Placeholders.TryRender(template, values, run.Params, out _, out var miss);
                missing.AddRange(miss);
            }
        }

        if (missing.Count > 0)
        {
            var reason = $"no value for {string.Join(", ", missing.Distinct().Select(m => "{" + m + "}"))} in {where} (activation error, not retried)";
            Fail(attempt with { ActivatedAt = run.ActivatedAt ?? at, StartedAt = at }, null, reason, at, retry: false);
            return;
        }

        if (Placeholders.WithNul(templates, values, run.Params) is { Count: > 0 } nul)
        {
            var reason = $"the value of {string.Join(", ", nul.Select(m => "{" + m + "}"))} contains a NUL character, which would cut the argument (activation error, not retried)";
            Fail(attempt with { ActivatedAt = run.ActivatedAt ?? at, StartedAt = at }, null, reason, at, retry: false);
            return;
        }

        var running = attempt with
        {
            State = RunState.Running,
            ActivatedAt = run.ActivatedAt ?? at,
            StartedAt = at,
            NextRetryAt = null,
            ExitCode = null,
        };
        TakeSlot(running);
        Change(running, "started", $"attempt {running.Attempt}");
        _effects.Add(new StartRun(new Activation(run.Key, running.Generation, running.Attempt, running.RunId, argv, values, running.Params) { StartedAt = at }));
    }

    /// <summary>The attempt counts against the global, per-job and backfill limits until its outcome releases it.</summary>
    private void TakeSlot(Run running)
    {
        _inFlight[running.Key] = (running.Generation, running.Attempt, running.Backfill);
        _runningPerJob[running.Key.Job] = _runningPerJob.GetValueOrDefault(running.Key.Job) + 1;
        if (running.Backfill is { } backfill)
        {
            _runningPerBackfill[backfill] = _runningPerBackfill.GetValueOrDefault(backfill) + 1;
        }
    }

    private void OnExited(RunExited e)
    {
        if (!ReleaseSlot(e.Key, e.Generation, e.Attempt))
        {
            return;
        }

        var run = _runs.GetValueOrDefault(e.Key);
        if (run is null || run.Generation != e.Generation || run.Attempt != e.Attempt || run.State != RunState.Running)
        {
            if (run is { IsDone: true } && run.Generation == e.Generation && run.Attempt == e.Attempt)
            {
                // The job wrote its marker before it exited: keep the exit code on the record.
                var warnings = e.ExitCode == 0 ? run.Warnings : [.. run.Warnings, $"attempt {e.Attempt} exited with code {e.ExitCode} after its marker was written"];
                Change(run with { ExitCode = e.ExitCode, Warnings = warnings }, "exited", $"exit {e.ExitCode} after marker");
            }

            return;
        }

        if (e.ExitCode == 0)
        {
            if (e.Marker is null)
            {
                _effects.Add(new WriteMarker(e.Key, MarkerBody.Empty));
            }

            _ = MarkDone(e.Key, e.Marker ?? MarkerBody.Empty, e.At, exitCode: 0);
            return;
        }

        Fail(run, e.ExitCode, $"exited with code {e.ExitCode}", e.At, retry: true);
    }

    private void OnFailed(RunFailed f)
    {
        if (!ReleaseSlot(f.Key, f.Generation, f.Attempt))
        {
            return;
        }

        var run = _runs.GetValueOrDefault(f.Key);
        if (run is { State: RunState.Running } && run.Generation == f.Generation && run.Attempt == f.Attempt)
        {
            Fail(run, null, f.Retry ? f.Reason : $"{f.Reason} (not retried)", f.At, retry: f.Retry);
        }
    }

    private void OnNotStarted(RunNotStarted n)
    {
        if (!ReleaseSlot(n.Key, n.Generation, n.Attempt))
        {
            return;
        }

        var run = _runs.GetValueOrDefault(n.Key);
        if (run is { State: RunState.Running } && run.Generation == n.Generation && run.Attempt == n.Attempt)
        {
            Fail(run, null, $"could not start: {n.Reason} (activation error, not retried)", n.At, retry: false);
        }
    }

    private void Fail(Run run, int? exitCode, string reason, DateTimeOffset at, bool retry)
    {
        var job = _pipeline[run.Key.Job];
        var failures = run.Failures + 1;
        if (retry && failures <= job.Retries)
        {
            var delay = job.RetryBackoff * Math.Pow(2, failures - 1);
            var due = at + delay;
            _retries.Add((due, run.Key));
            Change(run with { State = RunState.Queued, Failures = failures, ExitCode = exitCode, Reason = reason, NextRetryAt = due }, "retry", $"{reason}; retry {failures} of {job.Retries} at {due:O}");
            return;
        }

        var failed = run with { State = RunState.Failed, Failures = failures, ExitCode = exitCode, Reason = reason, FinishedAt = at, NextRetryAt = null };
        Change(failed, "failed", reason);
        var broken = BreakChainBelow(run.Key, at);
        Alert(AlertKind.Failed, failed, at, reason, [], broken);
    }

    private bool ReleaseSlot(RunKey key, int generation, int attempt)
    {
        if (!_inFlight.TryGetValue(key, out var slot) || (slot.Generation, slot.Attempt) != (generation, attempt))
        {
            return false;
        }

        _inFlight.Remove(key);
        _runningPerJob[key.Job]--;
        if (slot.Backfill is { } backfill)
        {
            _runningPerBackfill[backfill]--;
        }

        return true;
    }

    private void OnTrigger(TriggerRequested t)
    {
        if (!_pipeline.TryGetJob(t.Key.Job, out var job))
        {
            Warn($"trigger ignored: unknown job '{t.Key.Job}'");
            return;
        }

        if (job.Grain != t.Key.Partition.Grain)
        {
            Warn($"trigger ignored: job '{job.Name}' is {job.Grain.ToString().ToLowerInvariant()}; partition {t.Key.Partition.Key} does not fit");
            return;
        }

        if (!t.Key.Partition.IsSupported)
        {
            Warn("trigger ignored: " + Partition.RangeError($"partition {t.Key.Partition.Key}"));
            return;
        }

        if (job.Run is RunSpec.External)
        {
            Warn($"trigger ignored: '{job.Name}' is external; Cascade only tracks it (write its marker with `cascade done`)");
            return;
        }

        var run = _runs.GetValueOrDefault(t.Key);
        switch (run?.State)
        {
            case null or RunState.Waiting or RunState.Failed or RunState.TimedOut or RunState.UpstreamFailed:
                var fresh = (run ?? NewRun(t.Key, t.At)) with { TriggerParams = t.Params, Failures = 0, Reason = null };
                Enqueue(fresh, "trigger", t.At);
                if (run is { IsBroken: true })
                {
                    Mend(t.Key, t.At);
                }

                break;
            case RunState.Queued when run.NextRetryAt is { } due:
                _retries.Remove((due, run.Key));
                _ready.Add(run.Key);
                Change(run with { NextRetryAt = null }, "queued", "triggered: retry now");
                break;
            case RunState.Queued or RunState.Running:
                Warn($"trigger ignored: {t.Key} is already {run.State.Name()}");
                break;
            case RunState.Succeeded:
                Warn($"trigger ignored: {t.Key} already succeeded; to run it again, replay it");
                break;
        }
    }

    private void PromoteDueRetries(DateTimeOffset now)
    {
        while (_retries.Count > 0 && _retries.Min.At <= now)
        {
            var (_, key) = _retries.Min;
            _retries.Remove(_retries.Min);
            _ready.Add(key);
        }
    }

    private void OnStarted(DateTimeOffset at)
    {
        _held = false;
        var doneWhileHeld = _doneWhileHeld;
        _doneWhileHeld = [];
        // Only running and waiting runs need a look; sorted so the effects are deterministic.
        var keys = _runs.Values.Where(r => r.State is RunState.Running or RunState.Waiting).Select(r => r.Key).Order().ToList();
        foreach (var key in keys)
        {
            var run = _runs[key];
            if (run.State == RunState.Running && !_inFlight.ContainsKey(key))
            {
                if (_pipeline[key.Job].Run is RunSpec.Http http && run.Attempt > 0)
                {
                    TakeOver(run, http.Request.OnRestart, at);
                    continue;
                }

                _ready.Add(key);
                Change(run with { State = RunState.Queued, QueuedAt = at }, "interrupted", $"attempt {run.Attempt} was in flight when the scheduler stopped; queued again");
            }
        }

        foreach (var key in keys)
        {
            if (_runs[key].State == RunState.Waiting)
            {
                Evaluate(key, at);
            }
        }

        foreach (var key in doneWhileHeld)
        {
            foreach (var downstream in _pipeline.DownstreamOf(key))
            {
                Evaluate(downstream, at);
            }
        }
    }

    /// <summary>
    /// A remote attempt that was running when the previous scheduler stopped: its <c>started</c> change
    /// was committed before its activation was sent (ADR 6), so the activation may have reached the
    /// target. It is not queued again as a new attempt (which would send a new run id): with
    /// <see cref="RemoteRestart.Wait"/> the same attempt goes on waiting for its marker (the executor
    /// sends nothing and keeps the run_timeout counted from the recorded start); with
    /// <see cref="RemoteRestart.Resend"/> the same attempt is sent again, every placeholder equal.
    /// </summary>
    private void TakeOver(Run run, RemoteRestart onRestart, DateTimeOffset at)
    {
        var sent = run.StartedAt ?? run.ActivatedAt ?? at;
        var detail = onRestart == RemoteRestart.Wait
            ? $"attempt {run.Attempt}: activation sent at {sent:O} before the scheduler stopped; not sent again (on_restart: wait); waiting for its marker"
            : $"attempt {run.Attempt}: activation sent at {sent:O} before the scheduler stopped; sent again (on_restart: resend; same attempt and run id, so the target's idempotency key repeats)";
        TakeSlot(run);
        _effects.Add(new RunChanged(run, onRestart == RemoteRestart.Wait ? "resumed" : "resent", detail) { At = at });
        var values = Placeholders.BuiltIns(run.Key, run.RunId, run.Attempt);
        _effects.Add(new StartRun(new Activation(run.Key, run.Generation, run.Attempt, run.RunId, [], values, run.Params) { StartedAt = sent, AfterRestart = onRestart }));
    }

    private void Unqueue(RunKey key)
    {
        _ready.Remove(key);
        if (_runs.TryGetValue(key, out var run))
        {
            if (run.NextRetryAt is { } due)
            {
                _retries.Remove((due, key));
            }

            DisarmWaitDeadline(run);
        }
    }

    private static Run NewRun(RunKey key, DateTimeOffset at) => new() { Key = key, CreatedAt = at, State = RunState.Waiting };

    private void Change(Run run, string evt, string? detail, bool quiet = false)
    {
        if (run.State != RunState.Waiting)
        {
            _waitingInputs.Remove(run.Key);
        }

        if (!_runs.ContainsKey(run.Key))
        {
            NoteRunSpan(run.Key.Partition);
        }

        _runs[run.Key] = run;
        _effects.Add(new RunChanged(run, evt, detail, quiet));
    }

    private void Warn(string message) => _effects.Add(new Warning(message));
}
