using Cascade.Web.Security;
using Cascade.Web.Tests.Support;

namespace Cascade.Web.Tests;

/// <summary>The token on every POST, loopback by default, and the start-up refusal of an open address without a token.</summary>
public sealed class SecurityTests
{
    private const string Token = "s3cret-token";

    [Fact]
    public async Task With_a_token_every_POST_needs_it_and_a_missing_or_wrong_one_changes_nothing()
    {
        await using var host = await ApiHost.StartAsync(token: Token);
        var before = host.Dump();
        foreach (var path in new[] { "/api/runs/load/20190312/trigger", "/api/markers", "/api/replay", "/api/backfills", "/api/cancel", "/api/nothing" })
        {
            using (var missing = await host.PostAsync(path, "{}"))
            {
                await ApiHost.AssertProblemAsync(missing, 401, "missing Authorization: Bearer <token>");
                Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
            }

            using (var wrong = await host.PostAsync(path, "{}", token: "s3cret-tokeN"))
            {
                await ApiHost.AssertProblemAsync(wrong, 401, "the bearer token in Authorization is wrong");
            }

            using var basic = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}") };
            basic.Headers.TryAddWithoutValidation("Authorization", "Basic " + Token);
            using var notBearer = await host.Http.SendAsync(basic);
            await ApiHost.AssertProblemAsync(notBearer, 401, "wrong");
        }

        Assert.Equal(before, host.Dump());

        using var right = await host.PostAsync("/api/runs/load/20190312/trigger", null, token: Token);
        Assert.Equal(202, (int)right.StatusCode);

        // Reads need no token.
        using var read = await host.Http.GetAsync("/api/jobs");
        Assert.Equal(200, (int)read.StatusCode);
    }

    [Theory]
    [InlineData("http://0.0.0.0:5170")]
    [InlineData("http://*:5170")]
    [InlineData("http://+:5170")]
    [InlineData("http://example.com:5170")]
    [InlineData("http://127.0.0.1:5170;http://192.168.1.10:5170")]
    [InlineData("http://[::]:5170")]
    public async Task A_non_loopback_address_without_a_token_is_refused_at_start_up(string urls)
    {
        await using var host = await ApiHost.StartAsync();
        var e = await Assert.ThrowsAsync<WebConfigException>(() => WebServer.StartAsync(host.Options(token: null, urls), CancellationToken.None));
        Assert.Contains("is not a loopback address", e.Message, StringComparison.Ordinal);
        Assert.Contains("CASCADE_API_TOKEN", e.Message, StringComparison.Ordinal);

        // With a token the same address passes the check (not bound here: tests listen on 127.0.0.1 only).
        Assert.NotEmpty(Binding.Check(urls, new BearerToken(Token)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5170")]
    [InlineData("http://localhost:5170")]
    [InlineData("http://[::1]:5170")]
    public void Loopback_addresses_need_no_token(string urls) => Assert.NotEmpty(Binding.Check(urls, token: null));

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1:5170")]
    [InlineData("ftp://127.0.0.1:21")]
    [InlineData("http://127.0.0.1:5170/api")]
    public void Addresses_that_are_not_URLs_are_refused(string urls) =>
        Assert.Throws<WebConfigException>(() => Binding.Check(urls, token: null));

    [Fact]
    public async Task A_port_in_use_is_refused_with_a_clear_error()
    {
        await using var host = await ApiHost.StartAsync();
        var e = await Assert.ThrowsAsync<WebConfigException>(() => WebServer.StartAsync(host.Options(token: null, host.Server.Addresses[0]), CancellationToken.None));
        Assert.Contains("cannot listen on", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokens_compare_whole()
    {
        var token = new BearerToken(Token);
        Assert.True(token.Matches("Bearer " + Token));
        Assert.True(token.Matches("bearer " + Token));
        Assert.False(token.Matches("Bearer " + Token + "x"));
        Assert.False(token.Matches("Bearer " + Token[..^1]));
        Assert.False(token.Matches(Token));
        Assert.False(token.Matches(null));
    }

    [Fact]
    public async Task No_CORS_headers_are_sent_unless_an_origin_is_configured()
    {
        await using var host = await ApiHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/jobs");
        request.Headers.Add("Origin", "http://evil.example");
        using var response = await host.Http.SendAsync(request);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
