//! NATS goes away for five seconds while a mirror runs: the mirror backs
//! off, the error shows in the processor's report, and once the server is
//! back the mirror catches up with exactly what was stored.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{
    jetstream::{assert_mirrored, fill, published, register_mirror, stored},
    mirror::{context, mirror_state, wait_for_count},
    runtime,
    server::NatsServer,
};
use crate::{common::wait_until, processor::common::Owner};

#[test]
fn a_five_second_outage_is_reported_then_caught_up() {
    let mut nats = NatsServer::start();
    nats.wait_ready();
    let owner = Owner::start();
    let processor = owner.processor.as_ref().unwrap();
    fill(&owner.store, "data", 1000, 0, 0);
    register_mirror(&owner.store, "out", json!({"url": nats.url(), "topics": "data"}));
    let rt = runtime();
    let js = context(&rt, &nats.url());
    wait_for_count(&rt, &js, "XS", 1000, Duration::from_secs(60));
    drop(js);
    nats.stop();
    let down = Instant::now();
    fill(&owner.store, "data", 1000, 0, 0);
    wait_until("the report shows the error", || {
        let error = mirror_state(&processor.states(), "out").and_then(|s| s.mirror).and_then(|m| m.error);
        error.is_some_and(|e| e.contains("NATS"))
    });
    let report = mirror_state(&processor.states(), "out").and_then(|s| s.mirror).unwrap();
    eprintln!("during the outage: {report:?}");
    assert!(report.lag > 0, "frames wait to be published");
    std::thread::sleep(Duration::from_secs(5).saturating_sub(down.elapsed()));
    nats.start_again().wait_ready();
    let js = context(&rt, &nats.url());
    wait_for_count(&rt, &js, "XS", 2000, Duration::from_secs(90));
    wait_until("the mirror has caught up", || {
        mirror_state(&processor.states(), "out").and_then(|s| s.mirror).is_some_and(|m| m.lag == 0)
    });
    assert_mirrored(&owner.store, &stored(&owner.store, "data"), &rt.block_on(published(&js, "XS")));
}
