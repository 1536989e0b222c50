using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Scheduling;
using Cascade.Engine.Markers.Notifications;
using Cascade.Engine.Pipelines;
using Cascade.Engine.State;
using Cascade.Engine.State.Sqlite;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using static Cascade.Engine.Tests.Markers.Notifications.Notifications;

namespace Cascade.Engine.Tests.Markers.Notifications;

/// <summary>
/// Guarantee 8 over random notification histories: every marker write is delivered at least once,
/// duplicated, reordered, batched several to a notification, in any of the three shapes, mixed with
/// test events and foreign keys, with the intake's memory small and lost at random (a restart). The
/// notices go through the real intake into a real SQLite inbox, are read back as the scheduler reads
/// them, and are fed to the real core as the engine feeds them. Never lost: the newest write of every
/// marker is queued. Never doubled: the downstream job starts exactly once per partition, and with
/// memory enough and no restart no delivery is queued twice or out of order. Nothing foreign is queued.
/// </summary>
public sealed class NotificationHistoryPropertyTests
{
    private const string Yaml = """
        markers:
          s3: { bucket: markers, prefix: done/, endpoint: "http://127.0.0.1:9", region: us-east-1 }
        events:
          sns: { topics: [arn:aws:sns:us-east-1:123456789012:done], verify_signatures: false }
        jobs:
          a:
            run: external
          b:
            after: [a]
            run: { command: [sh, -c, "true"] }
        """;

    private static readonly Cascade.Core.Pipelines.Pipeline Pipeline = Load();

    private static Cascade.Core.Pipelines.Pipeline Load()
    {
        var result = PipelineLoader.Load(Yaml, "/tmp/cascade.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Pipeline!;
    }

    /// <summary>One write of a's marker for a day: the n-th write of the key, its ETag (an empty body's, or another).</summary>
    private sealed record Write(int Day, int N, bool SameBody)
    {
        public string Path => $"a__201903{Day:00}.done";

        public string Sequencer => $"0055AED6DC{Day:00}{N:00}";

        public string ETag => SameBody ? "d41d8cd98f00b204e9800998ecf8427e" : $"etag{N}";
    }

    private abstract record Delivery
    {
        public sealed record Of(Write Write) : Delivery;

        public sealed record Noise(int Kind) : Delivery;
    }

    private static readonly Gen<(List<Write> Writes, List<Delivery> Deliveries, int Shape, int Capacity, int Restarts)> History =
        from days in Gen.Int[1, 6].Array[1, 4]
        from rewrites in Gen.Int[1, 3].Array[4]
        from same in Gen.Bool.Array[12]
        let writes = days.Distinct().SelectMany((d, i) => Enumerable.Range(1, rewrites[i]).Select(n => new Write(d, n, same[(i * 3 + n) % 12]))).ToList()
        from copies in Gen.Int[1, 3].Array[writes.Count]
        from noise in Gen.Int[0, 5].Array[0, 6]
        from order in Gen.Int.Array[writes.Count * 3 + 6]
        from shape in Gen.Int[0, 3]
        from capacity in Gen.OneOf(Gen.Const(NoticeDeduplicator.DefaultCapacity), Gen.Int[2, 6])
        from restarts in Gen.Frequency((3, Gen.Const(0)), (1, Gen.Int[1, 2]))
        let all = writes.SelectMany((w, i) => Enumerable.Repeat<Delivery>(new Delivery.Of(w), copies[i])).Concat(noise.Select(k => (Delivery)new Delivery.Noise(k))).ToList()
        select (writes, all.Select((d, i) => (d, order[i])).OrderBy(x => x.Item2).Select(x => x.d).ToList(), shape, capacity, restarts);

    [Fact]
    public void Duplicated_reordered_test_and_foreign_notifications_never_double_or_lose_an_activation()
    {
        History.Sample(h => CheckAsync(h.Writes, h.Deliveries, h.Shape, h.Capacity, h.Restarts).GetAwaiter().GetResult(), iter: 150, threads: 1);
    }

    private static async Task CheckAsync(List<Write> writes, List<Delivery> deliveries, int shape, int capacity, int restarts)
    {
        var dir = Directory.CreateTempSubdirectory("cascade-notices-").FullName;
        try
        {
            await using var store = await SqliteRunStore.OpenAsync(Path.Combine(dir, "state.db"), TimeProvider.System);
            using var http = new HttpClient();
            NotificationIntake NewIntake() => new(Pipeline, (r, ct) => store.EnqueueRequestAsync(r, ct), http, TimeProvider.System, NullLogger.Instance, capacity: capacity);
            var intake = NewIntake();
            var restartAt = Enumerable.Range(1, restarts).Select(i => deliveries.Count * i / (restarts + 1)).ToHashSet();

            // Several deliveries to one notification when the shape allows it (S3's Records).
            var i = 0;
            while (i < deliveries.Count)
            {
                if (restartAt.Contains(i))
                {
                    intake.Dispose();
                    intake = NewIntake();
                }

                var take = shape == 0 ? Math.Min(1 + (i % 3), deliveries.Count - i) : 1;
                var body = Body(deliveries.GetRange(i, take), shape);
                var result = await intake.AcceptAsync(body, NotificationChannel.Http, senderAuthenticated: true, CancellationToken.None);
                Assert.False(result.Refused, result.Refusal);
                i += take;
            }

            intake.Dispose();

            // As the scheduler takes them: each notice request, in order, its markers read from the store.
            var queued = (await store.PendingRequestsAsync(CancellationToken.None)).SelectMany(r => r.Notices()).ToList();
            Assert.All(queued, n => Assert.Matches("^a__201903[0-9]{2}\\.done$", n.RelativePath));

            var newest = writes.GroupBy(w => w.Path).ToDictionary(g => g.Key, g => g.Max(w => w.N));
            foreach (var (path, _) in newest)
            {
                Assert.Contains(queued, n => n.RelativePath == path); // never lost
            }

            if (restarts == 0 && capacity == NoticeDeduplicator.DefaultCapacity)
            {
                // Each write is queued at most once; in shape 0..3 the ETag is with every record, the sequencer too.
                var perWrite = queued.GroupBy(n => n.RelativePath).ToDictionary(g => g.Key, g => g.Count());
                foreach (var (path, count) in perWrite)
                {
                    Assert.True(count <= writes.Count(w => w.Path == path), $"{path} queued {count} times for {writes.Count(w => w.Path == path)} writes");
                }
            }

            // The core, fed as the engine feeds it: b starts exactly once per day a was written.
            var core = new Scheduler(Pipeline, new SchedulerOptions());
            var starts = new List<RunKey>();
            var at = new DateTimeOffset(2019, 3, 13, 2, 0, 0, TimeSpan.Zero);
            foreach (var notice in queued)
            {
                var key = Pipeline.Definition.Layout.ParseName(notice.RelativePath).Key!.Value;
                if (core.IsDone(key))
                {
                    continue; // the engine's own check: a marker it already applied is not read again
                }

                foreach (var effect in core.Handle(new SchedulerInput.MarkersObserved([new ObservedMarker(key, MarkerBody.Empty, at)], at)))
                {
                    if (effect is SchedulerEffect.StartRun start)
                    {
                        starts.Add(start.Activation.Key);
                    }
                }
            }

            var days = writes.Select(w => w.Day).Distinct().Order().Select(d => new RunKey("b", Partition.Parse($"201903{d:00}"))).ToList();
            Assert.Equal(days, starts.Order().ToList());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Body(List<Delivery> deliveries, int shape)
    {
        var objects = deliveries.Select(d => d switch
        {
            Delivery.Of w => new Obj("done/" + w.Write.Path, w.Write.ETag, w.Write.Sequencer),
            Delivery.Noise { Kind: 0 } => new Obj("done/a__20190301.done", Bucket: "another-bucket"),
            Delivery.Noise { Kind: 1 } => new Obj("elsewhere/a__20190301.done"),
            Delivery.Noise { Kind: 2 } => new Obj("done/zz__20190301.done"),
            Delivery.Noise { Kind: 3 } => new Obj("done/not-a-marker.txt"),
            Delivery.Noise { Kind: 4 } => new Obj("done/a__20190301.done", EventName: "ObjectRemoved:Delete"),
            _ => null, // the test event
        }).ToList();
        if (objects.All(o => o is null))
        {
            return shape == 2 ? Sns(TestEvent) : TestEvent;
        }

        var real = objects.Where(o => o is not null).Select(o => o!).ToArray();
        return shape switch
        {
            0 or 1 => S3(real),
            2 => Sns(S3(real)),
            _ => EventBridge(real[0], real[0].EventName.StartsWith("ObjectRemoved", StringComparison.Ordinal) ? "Object Deleted" : "Object Created"),
        };
    }
}
