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
