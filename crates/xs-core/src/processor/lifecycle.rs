//! Lifecycle topics, and the restart rules that read them.
//!
//! In (appended by users): `xs.handler.<name>.register` (payload: the
//! script) and `.unregister`. Out (appended by the processor, each with
//! `meta.handler_id`, the id of the register frame it is about):
//! `.active`, `.invalid`, `.failed`, `.done`, `.unregistered`,
//! `.replaced`, `.stopped` (the owner shut down: it runs again under the
//! next owner).
//!
//! Generators ([`Kind::Generator`]) have the same events under
//! `xs.generator.<name>`, with three renamed: `.spawn` (register),
//! `.terminate` (unregister), `.terminated` (unregistered); their frames
//! carry `meta.generator_id`. Actions ([`Kind::Action`]) have the
//! handlers' events under `xs.action.<name>`, with `meta.action_id`. One
//! set of rules serves every kind.
//!
//! At owner start the processor replays only these topics (through the
//! topic index) into a [`History`] and asks it for a [`Plan`] per name:
//! what was stopped by request or ended by itself stays stopped; what was
//! running runs again; a register that never became active (the owner
//! died first) is tried, and if it proves invalid the last version that
//! was active runs instead; at most one instance per name.

use std::{collections::BTreeMap, time::Duration};

use scru128::Scru128Id;
use serde_json::{Map, Value as Json};

use crate::{frame::Frame, ttl::TTL};

/// The prefix of every handler lifecycle topic.
pub(crate) const HANDLER: &str = "xs.handler";
/// The prefix of every generator lifecycle topic.
pub(crate) const GENERATOR: &str = "xs.generator";
/// The prefix of every action lifecycle topic.
pub(crate) const ACTION: &str = "xs.action";
/// The prefix of every mirror lifecycle topic.
pub(crate) const MIRROR: &str = "xs.mirror";

/// Which kind of instance a lifecycle is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Handler,
    Generator,
    Action,
    Mirror,
}

impl Kind {
    /// The topic prefix: `xs.handler` or `xs.generator`.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Kind::Handler => HANDLER,
            Kind::Generator => GENERATOR,
            Kind::Action => ACTION,
            Kind::Mirror => MIRROR,
        }
    }

    /// The meta key naming the register (spawn) frame: `handler_id`, `generator_id` or `action_id`.
    pub(crate) fn id_key(self) -> &'static str {
        match self {
            Kind::Handler => "handler_id",
            Kind::Generator => "generator_id",
            Kind::Action => "action_id",
            Kind::Mirror => "mirror_id",
        }
    }

    /// The last segment of `event`'s topic for this kind.
    pub(crate) fn event_name(self, event: Event) -> &'static str {
        match (self, event) {
            (Kind::Generator, Event::Register) => "spawn",
            (Kind::Generator, Event::Unregister) => "terminate",
            (Kind::Generator, Event::Unregistered) => "terminated",
            _ => event.as_str(),
        }
    }
}
/// The prefix of module topics: `xs.module.<name>`.
pub(crate) const MODULE: &str = "xs.module";

/// One lifecycle event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    Register,
    Unregister,
    Active,
    Invalid,
    Failed,
    Done,
    Unregistered,
    Replaced,
    Stopped,
}

impl Event {
    const ALL: [Event; 9] = [
        Event::Register,
        Event::Unregister,
        Event::Active,
        Event::Invalid,
        Event::Failed,
        Event::Done,
        Event::Unregistered,
        Event::Replaced,
        Event::Stopped,
    ];

    /// The last segment of the event's topic.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Event::Register => "register",
            Event::Unregister => "unregister",
            Event::Active => "active",
            Event::Invalid => "invalid",
            Event::Failed => "failed",
            Event::Done => "done",
            Event::Unregistered => "unregistered",
            Event::Replaced => "replaced",
            Event::Stopped => "stopped",
        }
    }
}

/// `xs.handler.clip.sum.active` → (`clip.sum`, [`Event::Active`]).
pub(crate) fn parse(kind: Kind, topic: &str) -> Option<(&str, Event)> {
    let rest = topic.strip_prefix(kind.prefix())?.strip_prefix('.')?;
    let (name, event) = rest.rsplit_once('.')?;
    Event::ALL.into_iter().find(|e| kind.event_name(*e) == event).map(|e| (name, e))
}

/// The topic of `event` for the handler (or generator) `name`.
pub(crate) fn topic(kind: Kind, name: &str, event: Event) -> String {
    format!("{}.{name}.{}", kind.prefix(), kind.event_name(event))
}

/// A lifecycle frame about the instance registered (spawned) by `id`,
/// with `extra` fields (`error`, `frame_id`) in its meta.
pub(crate) fn frame(kind: Kind, name: &str, event: Event, id: Scru128Id, extra: &[(&str, Json)]) -> Frame {
    let mut meta = Map::new();
    meta.insert(kind.id_key().into(), id.to_string().into());
    for (key, value) in extra {
        meta.insert((*key).into(), value.clone());
    }
    Frame::builder(topic(kind, name, event)).meta(Json::Object(meta)).build()
}

/// The one `xs.<kind>.<name>.restarting` frame of a generator or mirror
/// whose run ended (TTL `last:1`, so it is rewritten, never piled up):
/// `meta: {<kind>_id, attempt, delay_ms}`, and `error` when the run failed.
pub(crate) fn restarting(
    kind: Kind,
    name: &str,
    id: Scru128Id,
    attempt: u32,
    delay: Duration,
    error: Option<&str>,
) -> Frame {
    let mut meta = Map::new();
    meta.insert(kind.id_key().into(), id.to_string().into());
    meta.insert("attempt".into(), attempt.into());
    meta.insert("delay_ms".into(), u64::try_from(delay.as_millis()).unwrap_or(u64::MAX).into());
    if let Some(error) = error {
        meta.insert("error".into(), error.into());
    }
    let topic = format!("{}.{name}.restarting", kind.prefix());
    Frame::builder(topic).meta(Json::Object(meta)).ttl(TTL::Last(1)).build()
}

/// The register frame an output event is about.
pub(crate) fn subject(kind: Kind, frame: &Frame) -> Option<Scru128Id> {
    frame.meta.as_ref()?.get(kind.id_key())?.as_str()?.parse().ok()
}

/// What the lifecycle frames say, per handler (or generator) name.
pub(crate) struct History {
    kind: Kind,
    names: BTreeMap<String, Name>,
}

#[derive(Default)]
struct Name {
    registers: BTreeMap<Scru128Id, Frame>,
    /// The newest register not yet resolved (active or invalid).
    pending: Option<Scru128Id>,
    /// The version running when the history ends.
    running: Option<Scru128Id>,
    /// The last version that was active and has not ended.
    fallback: Option<Scru128Id>,
    /// A version stopped by an unregister whose `.unregistered` is missing.
    unconfirmed: Option<Scru128Id>,
}

/// What to do with one name at owner start.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) name: String,
    /// Register frames to try in order; the first that proves valid runs.
    pub(crate) candidates: Vec<Frame>,
    /// The version that was running (to be marked `.replaced` if another runs).
    pub(crate) running: Option<Scru128Id>,
    /// A version stopped by request without its `.unregistered` frame.
    pub(crate) unregistered: Option<Scru128Id>,
}

impl History {
    /// An empty history of the lifecycles of `kind`.
    pub(crate) fn new(kind: Kind) -> Self {
        History { kind, names: BTreeMap::new() }
    }

    /// Takes one lifecycle frame into account (others are ignored).
    pub(crate) fn apply(&mut self, frame: &Frame) {
        let Some((name, event)) = parse(self.kind, &frame.topic) else { return };
        let entry = self.names.entry(name.to_string()).or_default();
        match event {
            Event::Register => {
                entry.registers.insert(frame.id, frame.clone());
                entry.pending = Some(frame.id);
            }
            Event::Unregister => {
                entry.unconfirmed = entry.running.take().or(entry.unconfirmed);
                entry.pending = None;
                entry.fallback = None;
            }
            _ => {
                if let Some(id) = subject(self.kind, frame) {
                    entry.resolve(event, id);
                }
            }
        }
    }

    /// The register ids of `name`, oldest first.
    pub(crate) fn versions(&self, name: &str) -> Vec<Scru128Id> {
        self.names.get(name).map(|n| n.registers.keys().copied().collect()).unwrap_or_default()
    }

    /// What to start, per name, when the history is all there is.
    pub(crate) fn plan(&self) -> Vec<Plan> {
        self.names.iter().filter_map(|(name, entry)| entry.plan(name)).collect()
    }
}

impl Name {
    fn resolve(&mut self, event: Event, id: Scru128Id) {
        let clear = |slot: &mut Option<Scru128Id>| {
            if *slot == Some(id) {
                *slot = None;
            }
        };
        match event {
            Event::Active => {
                self.running = Some(id);
                self.fallback = Some(id);
                if self.pending.is_some_and(|p| p <= id) {
                    self.pending = None;
                }
            }
            Event::Invalid => clear(&mut self.pending),
            Event::Replaced => clear(&mut self.running),
            Event::Done | Event::Failed | Event::Unregistered => {
                clear(&mut self.running);
                clear(&mut self.fallback);
                clear(&mut self.unconfirmed);
            }
            Event::Stopped | Event::Register | Event::Unregister => {}
        }
    }

    fn plan(&self, name: &str) -> Option<Plan> {
        let mut ids: Vec<Scru128Id> = self.pending.into_iter().collect();
        ids.extend(self.fallback.filter(|f| Some(*f) != self.pending));
        let candidates: Vec<Frame> = ids.iter().filter_map(|id| self.registers.get(id).cloned()).collect();
        if candidates.is_empty() && self.unconfirmed.is_none() {
            return None;
        }
        Some(Plan { name: name.to_string(), candidates, running: self.running, unregistered: self.unconfirmed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Script {
        history: History,
    }

    impl Script {
        fn new() -> Self {
            Script { history: History::new(Kind::Handler) }
        }

        fn register(&mut self) -> Scru128Id {
            let frame =
                Frame { id: scru128::new(), ..Frame::builder(topic(Kind::Handler, "h", Event::Register)).build() };
            self.history.apply(&frame);
            frame.id
        }

        fn event(&mut self, event: Event, id: Scru128Id) {
            let frame = Frame { id: scru128::new(), ..frame(Kind::Handler, "h", event, id, &[]) };
            self.history.apply(&frame);
        }

        fn unregister(&mut self) {
            let frame =
                Frame { id: scru128::new(), ..Frame::builder(topic(Kind::Handler, "h", Event::Unregister)).build() };
            self.history.apply(&frame);
        }

        fn candidates(&self) -> Vec<Scru128Id> {
            self.history.plan().into_iter().flat_map(|p| p.candidates).map(|f| f.id).collect()
        }
    }

    #[test]
    fn topics_parse_with_dotted_names() {
        assert_eq!(parse(Kind::Handler, "xs.handler.clip.sum.active"), Some(("clip.sum", Event::Active)));
        assert_eq!(parse(Kind::Handler, "xs.handler.x"), None);
        assert_eq!(parse(Kind::Handler, "xs.handler.x.bogus"), None);
        assert_eq!(parse(Kind::Handler, "xs.handlers.x.active"), None);
        assert_eq!(parse(Kind::Generator, "xs.generator.w.spawn"), Some(("w", Event::Register)));
        assert_eq!(parse(Kind::Generator, "xs.generator.w.terminated"), Some(("w", Event::Unregistered)));
        assert_eq!(parse(Kind::Generator, "xs.generator.w.register"), None);
        assert_eq!(parse(Kind::Generator, "xs.handler.w.active"), None);
    }

    #[test]
    fn running_runs_again_and_stopped_stays_stopped() {
        let mut s = Script::new();
        let a = s.register();
        s.event(Event::Active, a);
        s.event(Event::Stopped, a);
        assert_eq!(s.candidates(), [a]);
        s.event(Event::Active, a);
        s.event(Event::Done, a);
        assert!(s.candidates().is_empty());
    }

    #[test]
    fn a_replacement_that_never_became_active_falls_back() {
        let mut s = Script::new();
        let a = s.register();
        s.event(Event::Active, a);
        let b = s.register();
        assert_eq!(s.candidates(), [b, a]);
        s.event(Event::Invalid, b);
        assert_eq!(s.candidates(), [a]);
        let c = s.register();
        s.event(Event::Replaced, a);
        s.event(Event::Active, c);
        assert_eq!(s.candidates(), [c]);
    }

    #[test]
    fn an_unregister_without_its_confirmation_is_confirmed() {
        let mut s = Script::new();
        let a = s.register();
        s.event(Event::Active, a);
        s.unregister();
        let plan = s.history.plan();
        assert_eq!(plan[0].unregistered, Some(a));
        assert!(plan[0].candidates.is_empty());
        s.event(Event::Unregistered, a);
        assert!(s.history.plan().is_empty());
    }
}
