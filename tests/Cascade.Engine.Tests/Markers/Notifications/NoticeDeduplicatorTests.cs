using Cascade.Engine.Markers.Notifications;

namespace Cascade.Engine.Tests.Markers.Notifications;

public sealed class NoticeDeduplicatorTests
{
    private const string A = "a__20190312.done";
    private const string Empty = "d41d8cd98f00b204e9800998ecf8427e"; // the ETag of every empty marker

    [Fact]
    public void The_same_sequencer_is_a_duplicate_an_older_one_stale_and_a_newer_one_new()
    {
        var seen = new NoticeDeduplicator();
        Assert.Equal(NoticeVerdict.New, seen.Judge(A, Empty, "0055AED6DCD90281E5"));
        seen.Remember(A, Empty, "0055AED6DCD90281E5");

        Assert.Equal(NoticeVerdict.Duplicate, seen.Judge(A, Empty, "0055AED6DCD90281E5"));
        Assert.Equal(NoticeVerdict.Stale, seen.Judge(A, Empty, "0055AED6DCD90281E4"));
        Assert.Equal(NoticeVerdict.New, seen.Judge(A, Empty, "0055AED6DCD90281E6"));
        Assert.Equal(NoticeVerdict.New, seen.Judge("b__20190312.done", Empty, "0055AED6DCD90281E5"));
    }

    [Fact]
    public void A_replayed_run_s_new_marker_with_the_same_empty_body_is_new_by_its_sequencer()
    {
        // Every empty marker has the same ETag: the sequencer, not the ETag, tells the rewrite from a duplicate.
        var seen = new NoticeDeduplicator();
        seen.Remember(A, Empty, "0055AED6DCD90281E5");
        Assert.Equal(NoticeVerdict.New, seen.Judge(A, Empty, "0055AED6DD1F2C3B70"));
    }

    [Fact]
    public void Without_sequencers_the_same_ETag_is_a_duplicate_and_a_new_ETag_new()
    {
        var seen = new NoticeDeduplicator();
        seen.Remember(A, "abc", null);
        Assert.Equal(NoticeVerdict.Duplicate, seen.Judge(A, "abc", null));
        Assert.Equal(NoticeVerdict.New, seen.Judge(A, "def", null));
        Assert.Equal(NoticeVerdict.New, seen.Judge(A, "abc", "0055AED6DCD90281E5")); // cannot be told apart: new
        Assert.Equal(NoticeVerdict.New, seen.Judge(A, null, null));
    }

    [Fact]
    public void Sequencers_of_different_lengths_compare_right_padded_with_zeros()
    {
        Assert.Equal(0, NoticeDeduplicator.CompareSequencers("0055AED6", "0055aed60000"));
        Assert.True(NoticeDeduplicator.CompareSequencers("0055AED7", "0055AED6FFFF") > 0);
        Assert.True(NoticeDeduplicator.CompareSequencers("0055AED6", "0055AED60001") < 0);
    }

    [Fact]
    public void An_older_delivery_remembered_late_does_not_replace_the_newer_one()
    {
        var seen = new NoticeDeduplicator();
        seen.Remember(A, "new", "0000000000000002");
        seen.Remember(A, "old", "0000000000000001");
        Assert.Equal(NoticeVerdict.Duplicate, seen.Judge(A, "new", "0000000000000002"));
    }

    [Fact]
    public void Memory_is_bounded_and_forgets_the_least_recently_notified_first()
    {
        var seen = new NoticeDeduplicator(capacity: 10);
        for (var i = 0; i < 1000; i++)
        {
            seen.Remember($"m{i}", null, "01");
            Assert.True(seen.Count <= 10);
        }

        Assert.Equal(NoticeVerdict.Duplicate, seen.Judge("m999", null, "01")); // the last one written
        Assert.Equal(NoticeVerdict.New, seen.Judge("m0", null, "01")); // long forgotten: new again, which is safe
    }
}
