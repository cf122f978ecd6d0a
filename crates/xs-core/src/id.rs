//! Frame ids: scru128, strictly increasing for the life of a store.
//!
//! The generator is clamped against the newest id ever handed out (seeded
//! from the newest stored id or the high-water mark, whichever is higher,
//! when the store opens), so a clock that steps
//! backwards, or a restart after one, can never produce an id at or below
//! one already used. Ids never saturate: past the top of the scru128 space
//! there is no next id, and an import must leave `ROOM` ids above it.
//!
//! The id type is scru128's, re-exported here so an embedder can name it
//! (to parse an id it stored elsewhere) without depending on scru128.

pub use scru128::Scru128Id;

/// A monotonic id source.
pub(crate) struct IdGen {
    /// The newest id handed out or observed (the floor, before any).
    last: Option<Scru128Id>,
}

impl IdGen {
    /// A generator whose ids all exceed `floor`.
    pub(crate) fn new(floor: Option<Scru128Id>) -> Self {
        Self { last: floor }
    }

    /// Counts `id` as issued (an imported frame keeps its id), so every
    /// later id is above it.
    pub(crate) fn observe(&mut self, id: Scru128Id) {
        self.last = self.last.max(Some(id));
    }

    /// The newest id handed out or observed, or the floor before any.
    pub(crate) fn last(&self) -> Option<Scru128Id> {
        self.last
    }

    /// The next id: the clock's if it is ahead, else one past the last;
    /// `None` once the last is the largest id there is.
    pub(crate) fn next(&mut self) -> Option<Scru128Id> {
        let candidate = scru128::new();
        let next = match self.last {
            Some(last) if candidate <= last => successor(last)?,
            _ => candidate,
        };
        self.last = Some(next);
        Some(next)
    }
}

/// How many ids an imported id must leave above it: a store whose ids
/// reached the top of the space could not append again.
pub(crate) const ROOM: u128 = 1 << 64;

/// True when `id` leaves [`ROOM`] ids above it.
pub(crate) fn leaves_room(id: Scru128Id) -> bool {
    id.to_u128() <= u128::MAX - ROOM
}

/// The id right after `id` in the id order, or `None` for the largest id.
pub(crate) fn successor(id: Scru128Id) -> Option<Scru128Id> {
    id.to_u128().checked_add(1).map(Scru128Id::from_u128)
}

/// The id right before `id`, or `None` for the smallest id.
pub(crate) fn predecessor(id: Scru128Id) -> Option<Scru128Id> {
    id.to_u128().checked_sub(1).map(Scru128Id::from_u128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_against_a_future_floor() {
        // A floor a year ahead stands for a clock that stepped back a year.
        let ahead = Scru128Id::try_from_fields(scru128::new().timestamp() + 365 * 86_400_000, 0, 0, 0).unwrap();
        let mut ids = IdGen::new(Some(ahead));
        let (a, b) = (ids.next().unwrap(), ids.next().unwrap());
        assert!(ahead < a && a < b);
    }

    #[test]
    fn issues_above_observed_ids() {
        let mut ids = IdGen::new(None);
        let later = ids.next().and_then(successor).and_then(successor).unwrap();
        ids.observe(later);
        assert!(ids.next().unwrap() > later);
    }

    #[test]
    fn never_saturates_at_the_top() {
        let top = Scru128Id::from_u128(u128::MAX);
        let mut ids = IdGen::new(Some(Scru128Id::from_u128(u128::MAX - 1)));
        assert_eq!(ids.next(), Some(top));
        assert_eq!(ids.next(), None, "the largest id was issued twice");
        assert!(!leaves_room(top) && leaves_room(Scru128Id::from_u128(u128::MAX - ROOM)));
    }
}
