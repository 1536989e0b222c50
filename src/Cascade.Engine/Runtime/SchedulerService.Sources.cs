using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Markers;
using Cascade.Engine.Markers.Notifications;
using Microsoft.Extensions.Logging;

namespace Cascade.Engine.Runtime;

/// <summary>What feeds the loop: marker notices and rescans (read, judged, batched for the core), the
/// start-up repair of missing markers, and the doorbell the CLI rings after leaving a request.</summary>
public sealed partial class SchedulerService
{
    private async Task ObserveAsync(MarkerEntry entry, CancellationToken stop)
    {
        var parsed = _markers.Layout.ParseName(entry.RelativePath);
        if (parsed.Key is not { } parsedKey)
        {
            Ignore(entry.RelativePath, $"ignored marker: {parsed.Error}");
            return;
        }

        if (!_pipeline.TryGetJob(parsedKey.Job, out var job))
        {
            Ignore(entry.RelativePath, $"ignored marker '{entry.RelativePath}': no job '{parsedKey.Job}' in the pipeline");
            return;
        }

        // One string per job name, not one per marker (a year of markers is ~10^6 keys).
        var key = new RunKey(job.Name, parsedKey.Partition);

        if (job.Grain != key.Partition.Grain)
        {
            Ignore(entry.RelativePath, $"ignored marker '{entry.RelativePath}': job '{key.Job}' is {job.Grain.ToString().ToLowerInvariant()}, the partition is not");
            return;
        }

        _seenAtStart?.Add(key);
        if (_core.IsDone(key))
        {
            _settling.Forget(entry.RelativePath);
            return;
        }

        var stored = entry is { Size: 0, WrittenAt: { } written } ? new StoredMarker(MarkerBody.Empty, written) : await _markers.ReadStoredAsync(key, stop);
        if (stored is null)
        {
            _settling.Forget(entry.RelativePath);
            return;
        }

        if (stored.NotAMarker is { } reason)
        {
            Ignore(entry.RelativePath, $"ignored marker '{entry.RelativePath}': it {reason}");
            return;
        }

        if (stored.Body.IsUnparsable && _settling.ShouldRecheck(entry.RelativePath, stored.WrittenAt, _time.GetUtcNow(), out var pending))
        {
            // Maybe still being written in place: read it again soon, judge it once it stops changing.
            if (!pending)
            {
                _ = RecheckLaterAsync(entry with { Size = null });
            }

            return;
        }

        _settling.Forget(entry.RelativePath);

        Counters.MarkerObserved();
        _metrics?.MarkerObserved();
        if (stored.Body.Warning is not null)
        {
            _logger.LogWarning("marker {Marker}: {Warning}", entry.RelativePath, stored.Body.Warning);
        }

        _pendingMarkers.Add(new ObservedMarker(key, stored.Body, stored.WrittenAt));
    }

    private async Task RecheckLaterAsync(MarkerEntry entry)
    {
        await Task.Delay(SettlingMarkers.RecheckEvery, _time, CancellationToken.None);
        _inbox.Writer.TryWrite(new Message.Recheck(entry));
    }

    /// <summary>
    /// Guarantee 7: a run the state records succeeded has its marker in the store. A marker the
    /// start-up rescan did not find (lost to a crash of an older version between the commit and
    /// the write, or deleted by hand) is written again from the body the state recorded.
    /// </summary>
    private void RestoreMissingMarkers(HashSet<RunKey> seen)
    {
        var restored = 0;
        foreach (var run in _core.Runs)
        {
            if (!run.IsDone || seen.Contains(run.Key))
            {
                continue;
            }

            _pending.MarkerWrites.Add(new SchedulerEffect.WriteMarker(run.Key, run.Marker ?? MarkerBody.Empty));
            if (++restored <= 20)
            {
                _logger.LogWarning("marker of {Job} {Partition} is missing although the run succeeded (generation {Generation}); written again", run.Key.Job, run.Key.Partition.Key, run.Generation);
            }
        }

        if (restored > 20)
        {
            _logger.LogWarning("{Count} missing markers of succeeded runs written again in all", restored);
        }
    }

    private void Ignore(string path, string message)
    {
        Counters.MarkerIgnored();
        _metrics?.MarkerIgnored();
        if (_ignoredPaths.Add(path))
        {
            _logger.LogWarning("{Message}", message);
            Warning?.Invoke(message);
        }
    }

    private async Task RescanAsync(CancellationToken stop, int? flushEvery = null)
    {
        var n = 0;
        var every = flushEvery ?? _options.MaxBatch;
        var started = _time.GetTimestamp();
        try
        {
            // The start-up lists the whole store (the repair of missing markers relies on it); later rescans may list less.
            await foreach (var entry in _seenAtStart is null ? _markers.RescanAsync(stop) : _markers.ScanAsync(stop))
            {
                await ObserveAsync(entry, stop);
                if (++n % every == 0)
                {
                    await FlushAsync();
                }
            }

            // A remote run ends by its marker: look for each one by name too, so a lost notice costs one
            // interval even where the rescan lists only recent partitions (a bucket, ADR 16).
            if (_seenAtStart is null)
            {
                foreach (var key in _markerWaits.Keys.Select(k => k.Key).Distinct().ToList())
                {
                    await ObserveAsync(new MarkerEntry(_markers.Layout.Format(key), null), stop);
                }
            }
        }
        catch (IOException e) when (_seenAtStart is null)
        {
            // A store across a network (a bucket) can fail a listing: what was read counts, the next rescan lists again.
            // The start-up rescan is not caught: a store that cannot be listed at all is the user's to fix.
            _logger.LogWarning("marker store: {Error}; listing again in {Interval}", e.Message, Core.Model.Duration.Format(_options.RescanInterval));
        }

        _metrics?.RescanTook(_time.GetElapsedTime(started));
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var entry in _markers.WatchAsync(cancellationToken))
            {
                _inbox.Writer.TryWrite(new Message.Notice(entry));
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
#pragma warning disable CA1031 // a broken watcher must not stop the scheduler: the periodic rescan still finds markers
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogError("marker watcher stopped ({Error}); relying on the periodic rescan", e.Message);
        }
    }

    /// <summary>
    /// The notification sources that pull (an SQS queue), each on its own task until the loop stops.
    /// They hand what they receive to the notification intake, which posts markers to the store's
    /// notices; the watcher brings them to the loop. A source that fails is logged and the periodic
    /// rescan goes on finding its markers: no source stops the scheduler.
    /// </summary>
    private Task PullAsync(CancellationToken cancellationToken) => Task.WhenAll(_sources.Select(source => Task.Run(async () =>
    {
        try
        {
            await source.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
#pragma warning disable CA1031 // a broken notification source must not stop the scheduler: the periodic rescan still finds markers
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogError("{Source} stopped ({Error}); relying on the periodic rescan", source.Describe, e.Message);
        }
    }, CancellationToken.None)));

    /// <summary>Like the watcher: each ring of the doorbell becomes a message; the loop never awaits the socket itself.</summary>
    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        if (_doorbell is null)
        {
            return;
        }

        await Task.Yield();
        await foreach (var _ in _doorbell.RingsAsync(cancellationToken))
        {
            _inbox.Writer.TryWrite(new Message.RequestsWaiting());
        }
    }
}
