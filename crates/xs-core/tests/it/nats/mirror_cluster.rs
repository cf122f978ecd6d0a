//! A mirror into a 3-node JetStream cluster with an R3 stream: the
//! stream's leader is killed mid-mirror, and the stream still ends up
//! with every stored frame exactly once, in order.

use std::time::Duration;

use serde_json::json;

use super::{
    jetstream::{assert_mirrored, count, fill, published, register_mirror, stored},
    mirror::{context, mirror_state, wait_for_count},
    runtime,
    server::NatsCluster,
};
use crate::{common::wait_until, processor::common::Owner};

#[test]
fn killing_the_stream_leader_mid_mirror_loses_and_duplicates_nothing() {
    let mut cluster = NatsCluster::start();
    let urls = cluster.urls();
    let owner = Owner::start();
    let processor = owner.processor.as_ref().unwrap();
    fill(&owner.store, "data", 6000, 0, 0);
    register_mirror(&owner.store, "out", json!({"url": urls, "topics": "data", "replicas": 3}));
    let rt = runtime();
    let js = context(&rt, &urls);
    wait_for_count(&rt, &js, "XS", 500, Duration::from_secs(60));
    let (replicas, leader) = rt.block_on(async {
        let info = js.get_stream("XS").await.expect("stream").info().await.expect("info").clone();
        (info.config.num_replicas, info.cluster.and_then(|c| c.leader).expect("a leader"))
    });
    assert_eq!(replicas, 3, "the mirror created an R3 stream");
    let at = rt.block_on(count(&js, "XS"));
    eprintln!("killing the stream leader {leader} at {at} messages");
    let node = leader.trim_start_matches('n').parse::<usize>().expect("a node name n<i>");
    cluster.nodes[node].stop();
    fill(&owner.store, "data", 1000, 0, 0);
    let frames = stored(&owner.store, "data");
    wait_for_count(&rt, &js, "XS", frames.len() as u64, Duration::from_secs(120));
    wait_until("the mirror has caught up", || {
        mirror_state(&processor.states(), "out").and_then(|s| s.mirror).is_some_and(|m| m.lag == 0)
    });
    assert_mirrored(&owner.store, &frames, &rt.block_on(published(&js, "XS")));
}
