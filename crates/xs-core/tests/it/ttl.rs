//! Retention: time:<ms>, last:<n>, ephemeral.

use std::time::Duration;

use xs_core::{Durability, Frame, ReadOptions, Store, TTL};

use crate::common::{append, read_all, store, wait_until};

#[test]
fn time_ttl_frames_expire_and_are_swept_without_a_reader() {
    let (_dir, store) = store();
    let keep = append(&store, "t");
    let short = store.append(Frame::builder("t").ttl(TTL::Time(Duration::from_millis(200))).build()).unwrap();
    assert_eq!(store.get(&short.id).unwrap().as_ref(), Some(&short));
    assert_eq!(store.stored_len().unwrap(), 2);
    wait_until("the sweeper deletes the expired frame", || store.stored_len().unwrap() == 1);
    assert_eq!(store.get(&short.id).unwrap(), None);
    assert_eq!(read_all(&store, ReadOptions::default()), [keep]);
}

#[test]
fn an_expired_frame_is_never_returned() {
    let (_dir, store) = store();
    let gone = store.append(Frame::builder("t").ttl(TTL::Time(Duration::ZERO)).build()).unwrap();
    assert_eq!(store.get(&gone.id).unwrap(), None);
    assert!(read_all(&store, ReadOptions::default()).is_empty());
    assert!(store.last("t", 1).unwrap().is_empty());
}

#[test]
fn last_n_keeps_the_newest_n_of_the_exact_topic() {
    let (_dir, store) = store();
    let other = append(&store, "clip.other");
    let clips: Vec<_> =
        (0..6).map(|_| store.append(Frame::builder("clip").ttl(TTL::Last(2)).build()).unwrap()).collect();
    let frames = read_all(&store, ReadOptions::default());
    assert_eq!(frames, [other, clips[4].clone(), clips[5].clone()]);
    assert_eq!(store.last("clip", 10).unwrap(), clips[4..]);
    assert_eq!(store.get(&clips[0].id).unwrap(), None);
}

#[test]
fn ephemeral_frames_are_never_stored() {
    let (_dir, store) = store();
    let eph = store.append(Frame::builder("t").ttl(TTL::Ephemeral).build()).unwrap();
    assert_eq!(store.get(&eph.id).unwrap(), None);
    assert_eq!(store.stored_len().unwrap(), 0);
}

/// A read sees the store as it was when the read was created: a `last:1`
/// rewrite that happens before its history is read neither hides the frame
/// it replaced (the replacement is past the read's head) nor shows both.
#[test]
fn a_read_keeps_the_frame_a_later_last_one_rewrite_replaces() {
    let (_dir, store) = store();
    let old = store.append(Frame::builder("status").ttl(TTL::Last(1)).build()).unwrap();
    let mut reader = store.reader(ReadOptions::builder().topic("status".into()).build()).unwrap();
    let new = store.append(Frame::builder("status").ttl(TTL::Last(1)).build()).unwrap();
    assert_eq!(store.get(&old.id).unwrap(), None, "the rewrite trimmed the old frame");
    assert_eq!(reader.by_ref().map(Result::unwrap).collect::<Vec<_>>(), [old]);
    assert_eq!(read_all(&store, ReadOptions::builder().topic("status".into()).build()), [new]);
}

#[test]
fn a_last_one_topic_is_never_seen_empty_while_it_is_rewritten() {
    // Without syncs the rewrites come fast, so a read often starts mid-rewrite.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Durability::Buffered).unwrap();
    store.append(Frame::builder("status").ttl(TTL::Last(1)).build()).unwrap();
    let writer = store.clone();
    let appends = std::thread::spawn(move || {
        for _ in 0..1000 {
            writer.append(Frame::builder("status").ttl(TTL::Last(1)).build()).unwrap();
        }
    });
    // The new frame is published before the old one is trimmed, and a read
    // takes its head and its view of the tables with no trim in between: a
    // read of history sees one frame, or briefly both, never none.
    while !appends.is_finished() {
        assert_eq!(store.last("status", 1).unwrap().len(), 1, "last saw the topic empty mid-rewrite");
        let seen = read_all(&store, ReadOptions::builder().topic("status".into()).build());
        assert!((1..=2).contains(&seen.len()), "a history read saw {} frames mid-rewrite", seen.len());
    }
    appends.join().unwrap();
    assert_eq!(read_all(&store, ReadOptions::builder().topic("status".into()).build()).len(), 1);
}
