using System.Text;

namespace Cascade.Engine.Pipelines;

/// <summary>
/// Reads a pipeline file safely: at most a bound of bytes (whatever its size claims), so a
/// directory, a device such as <c>/dev/zero</c>, an unreadable or a huge file is a clear error
/// naming the file instead of a hang, an out-of-memory crash or a stack trace.
/// </summary>
internal static class PipelineFile
{
    /// <summary>Returns null and the text, or the problem (without the file name, which the caller prints).</summary>
    public static string? TryRead(string path, int maxBytes, out string text)
    {
        text = string.Empty;
        if (path.Length == 0)
        {
            return "the pipeline file name is empty (give -f FILE, e.g. -f cascade.yaml)";
        }

        try
        {
            var full = Path.GetFullPath(path);
            if (Directory.Exists(full))
            {
                return "is a directory, not a pipeline file (give -f DIR/cascade.yaml)";
            }

            var info = new FileInfo(full);
            if (!info.Exists)
            {
                return "file not found (create one with `cascade init`)";
            }

            if (info.Length > maxBytes)
            {
                return $"is {info.Length} bytes; a pipeline file may have at most {maxBytes} bytes";
            }

            using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var buffer = new byte[maxBytes + 1];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = stream.Read(buffer, read, buffer.Length - read)) > 0)
            {
                read += n;
            }

            if (read > maxBytes)
            {
                // Its size said it was small: a device such as /dev/zero, or a file growing as it is read.
                return $"is not a regular file of at most {maxBytes} bytes (more than that could be read from it); give the path of a YAML file";
            }

            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetString(buffer, 0, read);
            if (text.Length > 0 && text[0] == '\uFEFF')
            {
                text = text[1..];
            }

            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return "cannot be read: permission denied";
        }
        catch (IOException e)
        {
            return $"cannot be read: {e.Message}";
        }
        catch (ArgumentException e)
        {
            return $"is not a usable path: {e.Message}";
        }
    }
}
