//! Many writers, followers that keep up and followers that do not.

use std::time::Duration;

use xs_core::{FollowOption, ReadOptions};

use crate::common::{append, drain, store, take};

#[test]
fn eight_writers_and_a_follower_see_every_frame_in_order() {
    let (_dir, store) = store();
    let mut reader = store.reader(ReadOptions::builder().follow(FollowOption::On).build()).unwrap();
    assert_eq!(take(&mut reader, 1)[0].topic, "xs.threshold");
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || (0..500).map(|_| append(&store, &format!("w{w}")).id).collect::<Vec<_>>())
        })
        .collect();
    let frames = take(&mut reader, 4000);
    let mut acked: Vec<_> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    acked.sort();
    let seen: Vec<_> = frames.iter().map(|f| f.id).collect();
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "ids must strictly increase");
    assert_eq!(seen, acked);
    assert!(drain(&mut reader, Duration::from_millis(50)).is_empty());
}

#[test]
fn a_follower_that_lags_by_20000_frames_still_gets_them_all() {
    let (_dir, store) = store();
    let mut reader = store.reader(ReadOptions::builder().follow(FollowOption::On).new(true).build()).unwrap();
    assert_eq!(take(&mut reader, 1)[0].topic, "xs.threshold");
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || (0..5000).map(|_| append(&store, "burst").id).collect::<Vec<_>>())
        })
        .collect();
    let mut acked: Vec<_> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    acked.sort();
    let seen: Vec<_> = take(&mut reader, 20_000).iter().map(|f| f.id).collect();
    assert_eq!(seen, acked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_follower_that_lags_gets_every_frame() {
    let (_dir, store) = store();
    let mut rx = store.read(ReadOptions::builder().follow(FollowOption::On).new(true).build()).await;
    let writer = store.clone();
    let acked = tokio::task::spawn_blocking(move || (0..5000).map(|_| append(&writer, "burst").id).collect::<Vec<_>>())
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < acked.len() {
        let frame = tokio::time::timeout(crate::common::PATIENCE, rx.recv()).await.expect("timed out").expect("closed");
        if frame.topic == "burst" {
            seen.push(frame.id);
        }
    }
    assert_eq!(seen, acked);
}

/// A caught-up async follower has its new frames put into its channel by
/// the appender itself; when it stops reading, the channel fills and the
/// read falls back to its own task, which waits for room: nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_follower_that_was_caught_up_and_stops_reading_gets_every_frame() {
    let (_dir, store) = store();
    let mut rx =
        store.read(ReadOptions::builder().topic("burst".into()).follow(FollowOption::On).new(true).build()).await;
    let recv = async |rx: &mut tokio::sync::mpsc::Receiver<xs_core::Frame>| {
        tokio::time::timeout(crate::common::PATIENCE, rx.recv()).await.expect("timed out").expect("closed")
    };
    assert_eq!(recv(&mut rx).await.topic, "xs.threshold");
    let mut acked = Vec::new();
    // One at a time, read as they come: the read is caught up after each.
    for _ in 0..50 {
        acked.push(append(&store, "burst").id);
        append(&store, "other");
        assert_eq!(recv(&mut rx).await.id, *acked.last().unwrap());
    }
    // Then a burst far beyond the channel's room, unread until it ends.
    let writer = store.clone();
    let burst = tokio::task::spawn_blocking(move || {
        (0..3000).map(|_| (append(&writer, "burst").id, append(&writer, "other"))).map(|(id, _)| id).collect::<Vec<_>>()
    });
    acked.extend(burst.await.unwrap());
    let mut seen: Vec<_> = acked[..50].to_vec();
    while seen.len() < acked.len() {
        let frame = recv(&mut rx).await;
        assert_eq!(frame.topic, "burst", "live frames are filtered like history");
        seen.push(frame.id);
    }
    assert_eq!(seen, acked);
    assert!(tokio::time::timeout(Duration::from_millis(50), rx.recv()).await.is_err(), "no duplicates");
}
