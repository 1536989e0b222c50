using Cascade.Web.Tests.Support;

namespace Cascade.Web.Tests;

public sealed class OpenApiTests
{
    [Fact]
    public async Task The_OpenAPI_document_lists_exactly_the_endpoints_served()
    {
        await using var host = await ApiHost.StartAsync();
        var document = await host.GetJsonAsync("/openapi.json");
        var listed = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}"))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(host.Server.Endpoints(), listed);
    }
}
