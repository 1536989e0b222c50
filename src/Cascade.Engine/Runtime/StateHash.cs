using System.IO.Hashing;
using System.Text;

namespace Cascade.Engine.Runtime;

/// <summary>
/// A stable 128-bit name for a state file's full path: the lock socket's name and the tag its
/// commands carry. A name, not a secret, so a non-cryptographic hash (XXH128) does: SHA-256 made
/// the first use of .NET's cryptography load and initialise OpenSSL, a few milliseconds of every
/// command that takes or rings the lock.
/// </summary>
internal static class StateHash
{
    public static string Hex(string fullStatePath) =>
        Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(fullStatePath)));
}
