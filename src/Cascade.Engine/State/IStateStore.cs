namespace Cascade.Engine.State;

/// <summary>
/// A state store as the composition root opens it (<see cref="StateStores"/>): the scheduler's port
/// and the readers' port of one backend, on one connection. It adds no member of its own.
/// </summary>
public interface IStateStore : IRunStore, IStateQueries
{
}
