//! Read semantics (DESIGN.md section 5), each rule its own test.

use std::time::Duration;

use xs_core::{
    FollowOption, Frame, ReadOptions, TTL,
    store::{Next, Poll},
};

use crate::common::{append, drain, read_all, store, take, topics};

fn follow() -> ReadOptions {
    ReadOptions::builder().follow(FollowOption::On).build()
}

#[test]
fn history_comes_oldest_first() {
    let (_dir, store) = store();
    let appended: Vec<_> = (0..1200).map(|i| append(&store, if i % 2 == 0 { "a" } else { "b" })).collect();
    assert_eq!(read_all(&store, ReadOptions::default()), appended);
}

#[test]
fn follow_gives_history_then_threshold_then_live() {
    let (_dir, store) = store();
    let old = append(&store, "old");
    let mut reader = store.reader(follow()).unwrap();
    let first = take(&mut reader, 2);
    assert_eq!(first[0], old);
    assert_eq!(first[1].topic, "xs.threshold");
    let live = append(&store, "live");
    assert_eq!(take(&mut reader, 1), [live]);
}

#[test]
fn follow_with_pulse_emits_heartbeats_while_idle() {
    let (_dir, store) = store();
    let options = ReadOptions::builder().follow(FollowOption::WithHeartbeat(Duration::from_millis(30))).build();
    let mut reader = store.reader(options).unwrap();
    let frames = take(&mut reader, 4);
    assert_eq!(topics(&frames), ["xs.threshold", "xs.pulse", "xs.pulse", "xs.pulse"]);
    let live = append(&store, "live");
    let next: Vec<_> = take(&mut reader, 3).into_iter().filter(|f| f.topic != "xs.pulse").collect();
    assert_eq!(next.first(), Some(&live));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_follow_with_pulse_interleaves_heartbeats_and_live_frames() {
    let (_dir, store) = store();
    let options = ReadOptions::builder().follow(FollowOption::WithHeartbeat(Duration::from_millis(30))).build();
    let mut rx = store.read(options).await;
    assert_eq!(recv(&mut rx).await.topic, "xs.threshold");
    assert_eq!(recv(&mut rx).await.topic, "xs.pulse", "a pulse while idle");
    let live = append(&store, "live");
    let mut next = recv(&mut rx).await;
    while next.topic == "xs.pulse" {
        next = recv(&mut rx).await;
    }
    assert_eq!(next, live);
    assert_eq!(recv(&mut rx).await.topic, "xs.pulse", "pulses go on after a live frame");
}

#[test]
fn limit_without_follow_caps_history() {
    for (history, expected) in [(3, 3), (5, 5), (8, 5)] {
        let (_dir, store) = store();
        let appended: Vec<_> = (0..history).map(|_| append(&store, "t")).collect();
        let frames = read_all(&store, ReadOptions::builder().limit(5).build());
        assert_eq!(frames, appended[..expected], "history of {history}");
    }
}

#[test]
fn limit_with_follow_gives_exactly_limit_frames() {
    for history in [3, 5, 8] {
        let (_dir, store) = store();
        for _ in 0..history {
            append(&store, "t");
        }
        let mut reader = store.reader(ReadOptions::builder().follow(FollowOption::On).limit(5).build()).unwrap();
        let mut got = drain(&mut reader, Duration::from_millis(100));
        for _ in history..5 {
            append(&store, "t");
        }
        let mut frames = Vec::new();
        loop {
            match reader.poll(crate::common::PATIENCE).unwrap() {
                Next::Frame(f) => got.push(f),
                Next::End => break,
                Next::Idle => panic!("a limited follow did not end"),
            }
        }
        frames.extend(got.into_iter().filter(|f| f.topic == "t"));
        assert_eq!(frames.len(), 5, "history of {history}");
    }
}

#[test]
fn last_zero_gives_nothing() {
    let (_dir, store) = store();
    append(&store, "t");
    assert!(read_all(&store, ReadOptions::builder().last(0).build()).is_empty());
    assert!(store.last("t", 0).unwrap().is_empty());
}

#[test]
fn last_gives_the_newest_oldest_first() {
    let (_dir, store) = store();
    let appended: Vec<_> = (0..10).map(|i| append(&store, if i % 3 == 0 { "x" } else { "y" })).collect();
    let ys: Vec<_> = appended.iter().filter(|f| f.topic == "y").cloned().collect();
    assert_eq!(read_all(&store, ReadOptions::builder().last(3).topic("y".into()).build()), ys[ys.len() - 3..]);
    assert_eq!(store.last("y", 2).unwrap(), ys[ys.len() - 2..]);
    assert_eq!(read_all(&store, ReadOptions::builder().last(100).build()), appended);
}

#[test]
fn last_with_follow_continues_live() {
    let (_dir, store) = store();
    let old: Vec<_> = (0..5).map(|_| append(&store, "t")).collect();
    let mut reader = store.reader(ReadOptions::builder().last(2).follow(FollowOption::On).build()).unwrap();
    let first = take(&mut reader, 3);
    assert_eq!(first[..2], old[3..]);
    assert_eq!(first[2].topic, "xs.threshold");
    let live = append(&store, "t");
    assert_eq!(take(&mut reader, 1), [live]);
}

#[test]
fn multi_pattern_reads_merge_in_id_order_without_duplicates() {
    let (_dir, store) = store();
    let all: Vec<_> = ["a.b", "c", "a.b.c", "a", "d.e", "a.b"].iter().map(|t| append(&store, t)).collect();
    let frames = read_all(&store, ReadOptions::builder().topic("a.*,a.b,a.b.c,c".into()).build());
    let expected: Vec<_> = all.iter().filter(|f| ["a.b", "a.b.c", "c"].contains(&f.topic.as_str())).cloned().collect();
    assert_eq!(frames, expected);
}

#[test]
fn prefix_pattern_does_not_match_the_prefix_itself() {
    let (_dir, store) = store();
    for t in ["clip", "clip.add", "clipboard", "clip.x.y"] {
        append(&store, t);
    }
    let frames = read_all(&store, ReadOptions::builder().topic("clip.*".into()).build());
    assert_eq!(topics(&frames), ["clip.add", "clip.x.y"]);
}

#[test]
fn live_frames_are_filtered_like_history() {
    let (_dir, store) = store();
    let mut reader =
        store.reader(ReadOptions::builder().follow(FollowOption::On).topic("clip.*,note".into()).build()).unwrap();
    assert_eq!(topics(&take(&mut reader, 1)), ["xs.threshold"]);
    for t in ["clip", "clip.add", "other", "note", "note.sub", "clip.a.b"] {
        append(&store, t);
    }
    store.append(Frame::builder("clip.eph").ttl(TTL::Ephemeral).build()).unwrap();
    store.append(Frame::builder("noise.eph").ttl(TTL::Ephemeral).build()).unwrap();
    assert_eq!(topics(&take(&mut reader, 4)), ["clip.add", "note", "clip.a.b", "clip.eph"]);
    assert!(drain(&mut reader, Duration::from_millis(100)).is_empty());
}

#[test]
fn new_skips_history() {
    let (_dir, store) = store();
    append(&store, "old");
    assert!(read_all(&store, ReadOptions::builder().new(true).build()).is_empty());
    let mut reader = store.reader(ReadOptions::builder().new(true).follow(FollowOption::On).build()).unwrap();
    assert_eq!(topics(&take(&mut reader, 1)), ["xs.threshold"]);
    append(&store, "new");
    assert_eq!(topics(&take(&mut reader, 1)), ["new"]);
}

#[test]
fn after_is_exclusive_and_from_inclusive() {
    let (_dir, store) = store();
    let all: Vec<_> = (0..5).map(|_| append(&store, "t")).collect();
    assert_eq!(read_all(&store, ReadOptions::builder().after(all[1].id).build()), all[2..]);
    assert_eq!(read_all(&store, ReadOptions::builder().from(all[1].id).build()), all[1..]);
    let filtered = ReadOptions::builder().from(all[3].id).topic("t".into()).build();
    assert_eq!(read_all(&store, filtered), all[3..]);
}

#[test]
fn ephemeral_frames_reach_followers_but_are_not_stored() {
    let (_dir, store) = store();
    let mut reader = store.reader(follow()).unwrap();
    take(&mut reader, 1);
    let before = append(&store, "t");
    let eph = store.append(Frame::builder("t").ttl(TTL::Ephemeral).build()).unwrap();
    let after = append(&store, "t");
    assert_eq!(take(&mut reader, 3), [before.clone(), eph.clone(), after.clone()]);
    assert_eq!(store.get(&eph.id).unwrap(), None);
    assert_eq!(read_all(&store, ReadOptions::default()), [before, after]);
}

async fn recv(rx: &mut tokio::sync::mpsc::Receiver<Frame>) -> Frame {
    tokio::time::timeout(crate::common::PATIENCE, rx.recv()).await.expect("timed out").expect("channel closed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_read_follows_live_appends() {
    let (_dir, store) = store();
    let old = append(&store, "old");
    let mut rx = store.read(follow()).await;
    assert_eq!(recv(&mut rx).await, old);
    assert_eq!(recv(&mut rx).await.topic, "xs.threshold");
    let live = append(&store, "live");
    assert_eq!(recv(&mut rx).await, live);
}

#[test]
fn closing_the_store_ends_follows() {
    let (_dir, store) = store();
    let mut reader = store.reader(follow()).unwrap();
    take(&mut reader, 1);
    store.close();
    assert!(matches!(reader.poll(crate::common::PATIENCE).unwrap(), Next::End));
    assert!(matches!(store.append(Frame::builder("t").build()), Err(xs_core::StoreError::Closed)));
}

#[test]
fn a_new_read_starts_when_it_is_created_not_when_first_polled() {
    let (_dir, store) = store();
    append(&store, "old");
    let mut reader = store.reader(ReadOptions::builder().new(true).follow(FollowOption::On).build()).unwrap();
    let mut history = store.reader(ReadOptions::default()).unwrap();
    let appended = append(&store, "after");
    assert_eq!(topics(&take(&mut reader, 2)), ["xs.threshold", "after"]);
    assert_eq!(
        topics(&history.by_ref().map(Result::unwrap).collect::<Vec<_>>()),
        ["old"],
        "history ends where the read began"
    );
    assert_eq!(store.get(&appended.id).unwrap(), Some(appended));
}

#[tokio::test(flavor = "current_thread")]
async fn an_async_new_read_sees_an_append_made_right_after_it() {
    let (_dir, store) = store();
    let mut rx = store.read(ReadOptions::builder().new(true).follow(FollowOption::On).build()).await;
    let appended = append(&store, "right-after");
    assert_eq!(recv(&mut rx).await.topic, "xs.threshold");
    assert_eq!(recv(&mut rx).await, appended);
}

#[test]
fn a_frame_removed_before_a_follower_reads_it_is_not_delivered() {
    let (_dir, store) = store();
    let mut reader = store.reader(follow()).unwrap();
    assert_eq!(topics(&take(&mut reader, 1)), ["xs.threshold"]);
    let gone = append(&store, "gone");
    let kept = append(&store, "kept");
    store.remove(&gone.id).unwrap();
    assert_eq!(take(&mut reader, 1), std::slice::from_ref(&kept));
    assert_eq!(store.last("gone", 1).unwrap(), []);
    assert_eq!(store.last("*", 5).unwrap(), [kept]);
}

#[test]
fn last_finds_a_topic_far_behind_the_newest_frames() {
    let (_dir, store) = store();
    let old = append(&store, "rare");
    let noise: Vec<_> = (0..300).map(|_| append(&store, "noise")).collect();
    assert_eq!(store.last("rare", 1).unwrap(), std::slice::from_ref(&old));
    assert_eq!(store.last("rare,noise", 2).unwrap(), noise[298..]);
    let mut expected = vec![old];
    expected.extend(noise);
    assert_eq!(store.last("*", 301).unwrap(), expected);
}

#[test]
fn a_follower_that_fell_behind_the_ring_reads_from_disk_with_ephemerals_in_order() {
    let (_dir, store) = store();
    let mut reader = store.reader(follow()).unwrap();
    assert_eq!(topics(&take(&mut reader, 1)), ["xs.threshold"]);
    let total = xs_core::store::RECENT_FRAMES + 2000;
    let appended: Vec<_> = (0..total)
        .map(|i| {
            let ttl = if i % 1000 == 999 { TTL::Ephemeral } else { TTL::Forever };
            store.append(Frame::builder("t").ttl(ttl).build()).unwrap()
        })
        .collect();
    // Ephemeral frames that fell out of the ring before the reader came back
    // are gone; every stored frame and every ephemeral one still in the ring
    // arrives, in id order.
    let expected: Vec<_> = appended
        .iter()
        .enumerate()
        .filter(|(i, f)| f.ttl != Some(TTL::Ephemeral) || *i >= total - xs_core::store::RECENT_FRAMES)
        .map(|(_, f)| f.clone())
        .collect();
    assert!(expected.len() < total, "some ephemeral frames must have fallen out");
    assert_eq!(take(&mut reader, expected.len()), expected);
}
