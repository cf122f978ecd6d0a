//! A mirror under the processor: its register frame checked, its runs
//! ([`crate::nats::mirror`]) kept going with the generators' backoff, and
//! its lifecycle recorded like theirs.
//!
//! `xs.mirror.<name>.register` carries the config in its meta
//! ([`MirrorConfig`]); a config that does not check out is `.invalid` and
//! nothing is connected. A valid one records `.active` and runs. A run
//! ends only on an error (or a stop): the error goes into the mirror's
//! progress (`xs status`) and into the one `xs.mirror.<name>.restarting`
//! frame (TTL `last:1`, `meta: {mirror_id, attempt, delay_ms, error}`), and
//! the next run starts after a delay of 1 s doubling to 32 s, as a
//! generator's would. Stopping (unregister, replace, shutdown) ends the
//! run with its acks settled and position saved, and records the reason.
//! Runs are driven by a small runtime of the mirror's own thread, with two
//! workers so the connection's I/O goes on beside the publishing loop.

use std::{sync::Arc, time::Instant};

use serde_json::Value as Json;

use crate::{
    frame::Frame,
    nats::{config::MirrorConfig, mirror::Mirror},
    processor::{
        generator::Backoff,
        handler::Spec,
        instance::{Control, Stop},
        lifecycle::{self, Event, Kind},
    },
    store::Store,
};

/// A prepared mirror.
pub(crate) struct MirrorInstance {
    mirror: Mirror,
    control: Arc<Control>,
}

impl MirrorInstance {
    /// Checks the register frame's config.
    ///
    /// # Errors
    ///
    /// What is wrong with the config (the register is recorded `.invalid`).
    pub(crate) fn prepare(spec: Spec, store: Store, control: Arc<Control>) -> Result<Self, String> {
        let config = MirrorConfig::parse(spec.register.meta.as_ref()).map_err(|e| e.to_string())?;
        let progress = spec.progress.unwrap_or_default();
        progress.set_topics(&config.topics);
        let mirror = Mirror { name: spec.name, register: spec.register.id, config, store, progress };
        Ok(MirrorInstance { mirror, control })
    }

    /// Runs the mirror, again after each failed run, until stopped.
    pub(crate) fn run(self) {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("xs-mirror")
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => return self.record(Event::Failed, &[("error", format!("no async runtime: {e}").into())]),
        };
        self.record(Event::Active, &[]);
        tracing::info!(mirror = %self.mirror.name, id = %self.mirror.register, "mirror active");
        let mut backoff = Backoff::default();
        let stopping = || self.control.stopping().is_some();
        loop {
            let started = Instant::now();
            let result = runtime.block_on(self.mirror.run(&stopping));
            if let Some(reason) = self.control.stopping() {
                return self.stop(reason);
            }
            let error = result.err().map_or_else(|| "the run ended".to_string(), |e| e.to_string());
            let delay = backoff.next(started.elapsed());
            tracing::warn!(mirror = %self.mirror.name, error, ?delay, "mirror run failed; retrying");
            self.mirror.progress.set_error(&error);
            let (name, id) = (&self.mirror.name, self.mirror.register);
            self.append(lifecycle::restarting(Kind::Mirror, name, id, backoff.attempt, delay, Some(&error)));
            if let Some(reason) = self.control.wait_for_stop(delay) {
                return self.stop(reason);
            }
        }
    }

    /// Ends because the supervisor said so.
    fn stop(&self, reason: Stop) {
        let event = reason.event();
        tracing::info!(mirror = %self.mirror.name, event = event.as_str(), "mirror stopped");
        self.record(event, &[]);
    }

    fn record(&self, event: Event, extra: &[(&str, Json)]) {
        self.append(lifecycle::frame(Kind::Mirror, &self.mirror.name, event, self.mirror.register, extra));
    }

    /// Records a lifecycle frame: the runtime's own, under `xs.`.
    fn append(&self, frame: Frame) {
        if let Err(e) = self.mirror.store.append_runtime(frame) {
            tracing::error!(mirror = %self.mirror.name, error = %e, "could not append a lifecycle frame");
        }
    }
}
