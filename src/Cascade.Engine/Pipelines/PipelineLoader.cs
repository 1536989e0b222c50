using System.Globalization;
using Cascade.Core.Markers;
using Cascade.Core.Model;
using Cascade.Core.Pipelines;
using Cascade.Engine.Alerts;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Cascade.Engine.Pipelines;

/// <summary>
/// Reads <c>cascade.yaml</c> into a <see cref="PipelineDefinition"/> and validates it. Every error
/// names the file, line and column; loading never throws for a bad file.
/// </summary>
public static partial class PipelineLoader
{
    private static readonly string[] TopKeys = ["timezone", "markers", "state", "events", "defaults", "alerts", "jobs"];
    private static readonly string[] JobKeys = ["description", "after", "grain", "start", "params", "run", "retries", "retry_backoff", "max_parallel", "schedule", "partition_offset", "catchup", "wait_timeout", "deadline", "run_timeout"];
    private static readonly string[] DefaultKeys = ["retries", "retry_backoff", "max_parallel", "wait_timeout", "run_timeout"];
    private static readonly string[] MarkerKeys = ["folder", "s3", "layout", "rescan_interval"];

    /// <summary>The largest pipeline file read; a bigger one (or a device such as /dev/zero) is refused unread.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    public static PipelineResult LoadFile(string path)
    {
        if (PipelineFile.TryRead(path, MaxFileBytes, out var text) is { } problem)
        {
            return new PipelineResult(null, [new ValidationError(path, SourceLocation.None, problem)]);
        }

        return Load(text, Path.GetFullPath(path));
    }

    public static PipelineResult Load(string yaml, string sourcePath)
    {
        var errors = new List<ValidationError>();
        if (TabIndentedLine(yaml) is { } tabLine)
        {
            return new PipelineResult(null, [new ValidationError(sourcePath, new SourceLocation(tabLine, 1), "a tab is used for indentation; YAML needs spaces")]);
        }

        if (Parse(yaml, sourcePath, errors) is not { } stream)
        {
            return new PipelineResult(null, errors);
        }

        PipelineDefinition? definition = null;
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            errors.Add(new ValidationError(sourcePath, new SourceLocation(1, 1), "the pipeline file must be a mapping with a 'jobs' key"));
        }
        else
        {
            definition = new Reader(sourcePath, errors).ReadPipeline(root);
        }

        if (errors.Count > 0 || definition is null)
        {
            return new PipelineResult(null, errors);
        }

        return Pipeline.Create(definition);
    }

    /// <summary>
    /// Parses the YAML. Whatever the library throws for a broken text (a <see cref="YamlException"/>
    /// with its position, or an internal error of its scanner such as an
    /// <see cref="InvalidOperationException"/> without one) becomes one error located where the
    /// scanner stopped: no input text can make loading throw.
    /// </summary>
    private static YamlStream? Parse(string yaml, string sourcePath, List<ValidationError> errors)
    {
        var scanner = new Scanner(new StringReader(yaml));
        try
        {
            var stream = new YamlStream();
            stream.Load(new GuardedParser(new Parser(scanner)));
            return stream;
        }
        catch (YamlException e)
        {
            var message = e.InnerException?.Message ?? e.Message;
            var at = e.Start.Line > 0 ? e.Start : scanner.CurrentPosition;
            errors.Add(new ValidationError(sourcePath, Located(at), $"YAML syntax error: {Clean(message)}"));
        }
#pragma warning disable CA1031 // any failure of the YAML library on a text is a syntax error of that text, never a crash
        catch (Exception e) when (e is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            errors.Add(new ValidationError(sourcePath, Located(scanner.CurrentPosition), "YAML syntax error: the YAML reader cannot read the text from here (check for an unclosed [ or {, or an unusual character)"));
        }

        return null;
    }

    private static SourceLocation Located(Mark at) => new(Math.Max(1, (int)at.Line), Math.Max(1, (int)at.Column));

    private static int? TabIndentedLine(string yaml)
    {
        var lines = yaml.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            if (lines[i].AsSpan(0, indent).Contains('\t'))
            {
                return i + 1;
            }
        }

        return null;
    }

    private static string Clean(string message)
    {
        // YamlDotNet prefixes "(Line: x, Col: y, Idx: z) - (…): "; the position is printed separately.
        var i = message.LastIndexOf("): ", StringComparison.Ordinal);
        return i >= 0 ? message[(i + 3)..] : message;
    }

    private sealed partial class Reader(string file, List<ValidationError> errors)
    {
        private TimeZoneInfo _zone = TimeZoneInfo.Utc;

        private ScheduleSpec? ReadSchedule(YamlMappingNode job, string name)
        {
            var offset = IntValue(job, "partition_offset") ?? 0;
            var catchup = true;
            if (Get(job, "catchup") is { } catchupNode && Scalar(catchupNode, "catchup") is { } c)
            {
                if (!bool.TryParse(c, out catchup))
                {
                    Error(catchupNode, $"job '{name}': catchup must be true or false, not '{c}'");
                }
            }

            if (Get(job, "schedule") is not { } node || Scalar(node, "schedule") is not { } text)
            {
                foreach (var key in new[] { "partition_offset", "catchup" })
                {
                    if (Get(job, key) is { } orphan)
                    {
                        Error(orphan, $"job '{name}': '{key}' needs a 'schedule'");
                    }
                }

                return null;
            }

            if (Get(job, "after") is not null)
            {
                Error(node, $"job '{name}': only root jobs (without 'after') have a schedule; downstream jobs start when their inputs are done");
            }

            if (!Schedules.CronSchedule.TryParse(text, _zone, out var cron, out var error))
            {
                Error(node, $"job '{name}': schedule {error}");
                return null;
            }

            return new ScheduleSpec(cron!, offset, catchup);
        }

        /// <summary><c>deadline: "06:00"</c> (time after the partition ends) or a duration such as <c>90m</c>.</summary>
        private TimeSpan? ReadDeadline(YamlMappingNode job, string name)
        {
            if (Get(job, "deadline") is not { } node || Scalar(node, "deadline") is not { } text)
            {
                return null;
            }

            if (TimeSpan.TryParseExact(text, ["hh\\:mm", "h\\:mm"], CultureInfo.InvariantCulture, out var clock) && clock < TimeSpan.FromDays(1))
            {
                return clock;
            }

            if (Duration.TryParse(text, out var duration))
            {
                return duration;
            }

            Error(node, $"job '{name}': deadline '{text}' is not a time after the partition ends (\"06:00\") or a duration (90m, 6h)");
            return null;
        }

        private List<AlertTarget> ReadAlerts(YamlMappingNode root)
        {
            var result = new List<AlertTarget>();
            if (Get(root, "alerts") is not { } node)
            {
                return result;
            }

            if (node is not YamlSequenceNode seq)
            {
                Error(node, "'alerts' must be a list of { slack: URL } or { webhook: URL }");
                return result;
            }

            foreach (var entry in seq.Children)
            {
                if (entry is not YamlMappingNode { Children.Count: 1 } m || m.Children.First() is not (YamlScalarNode { Value: "slack" or "webhook" } kind, YamlScalarNode { Value: { } url }))
                {
                    Error(entry, "an alert is { slack: URL } or { webhook: URL }");
                    continue;
                }

                if (!AlertUrl.LooksValid(url, out var problem))
                {
                    Error(entry, $"alert {kind.Value}: {problem}");
                    continue;
                }

                result.Add(new AlertTarget(kind.Value!, url, At(entry)));
            }

            return result;
        }

        private static SourceLocation At(YamlNode node) => new((int)node.Start.Line, (int)node.Start.Column);

        private void Error(YamlNode node, string message) => errors.Add(new ValidationError(file, At(node), message));

        public PipelineDefinition? ReadPipeline(YamlMappingNode root)
        {
            CheckKeys(root, TopKeys, "top level");
            var timezone = "UTC";
            if (Get(root, "timezone") is { } tzNode && Scalar(tzNode, "timezone") is { } tz)
            {
                if (TimeZoneInfo.TryFindSystemTimeZoneById(tz, out var found))
                {
                    _zone = found;
                }
                else
                {
                    Error(tzNode, $"unknown time zone '{tz}' (use an IANA name such as UTC or Europe/Berlin)");
                }

                timezone = tz;
            }

            var (markerSettings, layout, rescan) = ReadMarkers(root);
            var events = ReadEvents(root, markerSettings);

            var state = ReadState(root);

            var defaults = new JobDefaults(0, TimeSpan.FromSeconds(30), null, null, null);
            if (Get(root, "defaults") is { } defaultsNode)
            {
                if (defaultsNode is YamlMappingNode d)
                {
                    CheckKeys(d, DefaultKeys, "defaults");
                    defaults = new JobDefaults(
                        IntValue(d, "retries") ?? defaults.Retries,
                        DurationValue(d, "retry_backoff") ?? defaults.RetryBackoff,
                        IntValue(d, "max_parallel"),
                        DurationValue(d, "wait_timeout"),
                        DurationValue(d, "run_timeout"));
                }
                else
                {
                    Error(defaultsNode, "'defaults' must be a mapping");
                }
            }

            var jobs = new List<JobDefinition>();
            if (Get(root, "jobs") is not { } jobsNode)
            {
                errors.Add(new ValidationError(file, At(root), "the pipeline has no 'jobs' mapping"));
            }
            else if (jobsNode is not YamlMappingNode jobsMap)
            {
                Error(jobsNode, "'jobs' must be a mapping of job names to their settings");
            }
            else if (jobsMap.Children.Count == 0)
            {
                Error(jobsNode, "'jobs' is empty: the pipeline has no jobs");
            }
            else
            {
                foreach (var (keyNode, valueNode) in jobsMap.Children)
                {
                    if (ReadJob(keyNode, valueNode, defaults) is { } job)
                    {
                        jobs.Add(job);
                    }
                }
            }

            var alerts = ReadAlerts(root);
            return new PipelineDefinition
            {
                Zone = _zone,
                Alerts = alerts,
                SourcePath = file,
                Jobs = jobs,
                Layout = layout,
                Markers = markerSettings,
                Events = events,
                State = state,
                TimeZone = timezone,
                RescanInterval = rescan,
            };
        }

        private JobDefinition? ReadJob(YamlNode keyNode, YamlNode valueNode, JobDefaults defaults)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            if (valueNode is not YamlMappingNode job)
            {
                Error(valueNode, $"job '{name}' must be a mapping with at least 'run'");
                return null;
            }

            CheckKeys(job, JobKeys, $"job '{name}'");
            var grain = Grain.Daily;
            if (Get(job, "grain") is { } grainNode)
            {
                switch (Scalar(grainNode, "grain"))
                {
                    case "daily": grain = Grain.Daily; break;
                    case "hourly": grain = Grain.Hourly; break;
                    case var other: Error(grainNode, $"job '{name}': grain '{other}' is not daily or hourly"); break;
                }
            }

            DateOnly? start = null;
            if (Get(job, "start") is { } startNode && Scalar(startNode, "start") is { } startText)
            {
                if (DateOnly.TryParseExact(startText, ["yyyy-MM-dd", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var s))
                {
                    start = s;
                }
                else
                {
                    Error(startNode, $"job '{name}': start '{startText}' is not a date (YYYY-MM-DD)");
                }
            }

            var runSpec = ReadRun(job, name, keyNode) ?? new RunSpec.External();
            return new JobDefinition
            {
                Name = name,
                Grain = grain,
                After = ReadAfter(job, name),
                Start = start,
                Params = ReadParams(job, name),
                Run = runSpec,
                // The default applies to remote jobs only: a command's run ends when its process exits.
                RunTimeout = DurationValue(job, "run_timeout") ?? (runSpec is RunSpec.Http ? defaults.RunTimeout : null),
                Retries = IntValue(job, "retries") ?? defaults.Retries,
                RetryBackoff = DurationValue(job, "retry_backoff") ?? defaults.RetryBackoff,
                MaxParallel = IntValue(job, "max_parallel") ?? defaults.MaxParallel,
                Schedule = ReadSchedule(job, name),
                WaitTimeout = DurationValue(job, "wait_timeout") ?? defaults.WaitTimeout,
                Deadline = ReadDeadline(job, name),
                Location = At(keyNode),
            };
        }

        private List<Dependency> ReadAfter(YamlMappingNode job, string name)
        {
            var result = new List<Dependency>();
            if (Get(job, "after") is not { } afterNode)
            {
                return result;
            }

            if (afterNode is not YamlSequenceNode seq)
            {
                Error(afterNode, $"job '{name}': 'after' must be a list of job names or {{job, offset}} entries");
                return result;
            }

            foreach (var entry in seq.Children)
            {
                switch (entry)
                {
                    case YamlScalarNode s when !string.IsNullOrWhiteSpace(s.Value):
                        result.Add(new Dependency(s.Value!, 0, At(s)));
                        break;
                    case YamlMappingNode m:
                        CheckKeys(m, ["job", "offset"], $"an 'after' entry of job '{name}'");
                        var upstream = OptionalScalar(m, "job");
                        if (upstream is null)
                        {
                            Error(m, $"job '{name}': an 'after' entry needs 'job'");
                            break;
                        }

                        result.Add(new Dependency(upstream, IntValue(m, "offset") ?? 0, At(m)));
                        break;
                    default:
                        Error(entry, $"job '{name}': 'after' entries are job names or {{job, offset}}");
                        break;
                }
            }

            return result;
        }

        private SortedDictionary<string, string> ReadParams(YamlMappingNode job, string name)
        {
            var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (Get(job, "params") is not { } node)
            {
                return result;
            }

            if (node is not YamlMappingNode map)
            {
                Error(node, $"job '{name}': 'params' must be a mapping of names to strings");
                return result;
            }

            foreach (var (k, v) in map.Children)
            {
                if (k is YamlScalarNode { Value: { } key } && v is YamlScalarNode { Value: var value })
                {
                    result[key] = value ?? string.Empty;
                }
                else
                {
                    Error(v, $"job '{name}': params values must be strings");
                }
            }

            return result;
        }

        private RunSpec? ReadRun(YamlMappingNode job, string name, YamlNode keyNode)
        {
            if (Get(job, "run") is not { } runNode)
            {
                Error(keyNode, $"job '{name}' has no 'run' (use run: {{ command: [program, args…] }}, run: {{ http: {{ url: … }} }} or run: external)");
                return null;
            }

            if (runNode is YamlScalarNode { Value: "external" })
            {
                return new RunSpec.External();
            }

            if (runNode is not YamlMappingNode run)
            {
                Error(runNode, $"job '{name}': 'run' must be 'external' or a mapping with 'command' or 'http'");
                return null;
            }

            CheckKeys(run, ["command", "http"], $"run of job '{name}'");
            if (Get(run, "http") is { } httpNode)
            {
                if (Get(run, "command") is not null)
                {
                    Error(httpNode, $"job '{name}': 'run' has either 'command' or 'http', not both");
                }

                return ReadHttp(httpNode, name);
            }

            if (Get(run, "command") is not { } commandNode)
            {
                Error(run, $"job '{name}': 'run' needs 'command' (a list: [program, arg…]) or 'http' (a mapping with url)");
                return null;
            }

            if (commandNode is not YamlSequenceNode argv)
            {
                Error(commandNode, $"job '{name}': run.command must be a list of arguments, e.g. [python3, jobs/x.py, \"{{date}}\"] (no shell is used)");
                return null;
            }

            var args = new List<string>();
            foreach (var arg in argv.Children)
            {
                if (arg is YamlScalarNode { Value: { } v })
                {
                    args.Add(v);
                }
                else
                {
                    Error(arg, $"job '{name}': every run.command argument must be a string");
                }
            }

            return new RunSpec.Command(args) { Location = At(argv.Children.Count > 0 ? argv.Children[0] : argv) };
        }

        private void CheckKeys(YamlMappingNode map, string[] known, string where)
        {
            foreach (var key in map.Children.Keys)
            {
                var k = (key as YamlScalarNode)?.Value;
                if (k is null || !known.Contains(k))
                {
                    Error(key, $"unknown key '{k}' in {where} (known: {string.Join(", ", known)})");
                }
            }
        }

        private static YamlNode? Get(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

        private string? Scalar(YamlNode node, string what)
        {
            if (node is YamlScalarNode { Value: { } v })
            {
                return v;
            }

            Error(node, $"'{what}' must be a single value");
            return null;
        }

        private string? OptionalScalar(YamlMappingNode map, string key) =>
            Get(map, key) is { } node ? Scalar(node, key) : null;

        private int? IntValue(YamlMappingNode map, string key)
        {
            if (Get(map, key) is not { } node || Scalar(node, key) is not { } text)
            {
                return null;
            }

            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            Error(node, $"'{key}' must be a whole number, not '{text}'");
            return null;
        }

        private TimeSpan? DurationValue(YamlMappingNode map, string key)
        {
            if (Get(map, key) is not { } node || Scalar(node, key) is not { } text)
            {
                return null;
            }

            if (Duration.TryParse(text, out var value))
            {
                return value;
            }

            Error(node, $"'{key}': '{text}' is not a duration (e.g. 30s, 5m, 6h, 1h30m, 2d)");
            return null;
        }
    }

    private sealed record JobDefaults(int Retries, TimeSpan RetryBackoff, int? MaxParallel, TimeSpan? WaitTimeout, TimeSpan? RunTimeout);
}
