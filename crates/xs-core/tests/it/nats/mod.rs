//! NATS JetStream: mirrors of a store into a stream, and replicas out of it,
//! against real `nats-server` processes (server.rs).

mod jetstream;
mod mirror;
mod mirror_cluster;
mod mirror_crash;
mod mirror_errors;
mod mirror_outage;
mod publish;
mod replica;
mod server;
mod topology;

use std::time::Duration;

use server::{NatsCluster, NatsServer};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// The harness itself: a JetStream server takes a stream and drops a
/// republished message id, and keeps its messages over a restart.
#[test]
fn a_server_dedupes_by_message_id_and_survives_a_restart() {
    let mut nats = NatsServer::start();
    nats.wait_ready();
    let url = nats.url();
    let rt = runtime();
    let stored = rt.block_on(async {
        let client = async_nats::connect(&url).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        js.create_stream(async_nats::jetstream::stream::Config {
            name: "PROBE".into(),
            subjects: vec!["probe.>".into()],
            ..Default::default()
        })
        .await
        .expect("create stream");
        for _ in 0..2 {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", "one");
            js.publish_with_headers("probe.a", headers, "x".into()).await.expect("publish").await.expect("ack");
        }
        js.get_stream("PROBE").await.expect("stream").info().await.expect("info").state.messages
    });
    assert_eq!(stored, 1, "the second publish of one id is dropped");
    nats.stop();
    nats.start_again().wait_ready();
    let after = rt.block_on(async {
        let client = async_nats::connect(&url).await.expect("reconnect");
        let js = async_nats::jetstream::new(client);
        js.get_stream("PROBE").await.expect("stream").info().await.expect("info").state.messages
    });
    assert_eq!(after, 1, "the message is kept over a restart");
}

/// The harness's cluster: three nodes take a stream with three replicas.
#[test]
fn a_cluster_of_three_takes_an_r3_stream() {
    let cluster = NatsCluster::start();
    let urls = cluster.urls();
    let replicas = runtime().block_on(async {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(urls.split(',').collect::<Vec<_>>())
            .await
            .expect("connect");
        let js = async_nats::jetstream::new(client);
        let mut stream = js
            .create_stream(async_nats::jetstream::stream::Config {
                name: "PROBE3".into(),
                subjects: vec!["probe3.>".into()],
                num_replicas: 3,
                ..Default::default()
            })
            .await
            .expect("create an R3 stream");
        stream.info().await.expect("info").config.num_replicas
    });
    assert_eq!(replicas, 3);
}
