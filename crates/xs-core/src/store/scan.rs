//! Range reads over the stream and the topic index.
//!
//! Every read is bounded above by an id (the store's published head), so a
//! reader never sees a frame before it is durable, and goes through a
//! [`View`]: a fjall snapshot taken with that head, so a `last:<n>` trim
//! committed after the head was read (its new frame lies above the bound)
//! cannot hide the frame it replaced. A topic filter reads one index range
//! per pattern; the ranges are each id-ordered, and a k-way merge gives one
//! id-ordered sequence with each frame once however many patterns match it.
//! A [`Scan`] pulls frames one at a time from the open ranges, so memory
//! never grows with the length of the stream.

use std::{ops::Bound, time::SystemTime};

use fjall::{Database, Keyspace, Readable, Slice, Snapshot};
use scru128::Scru128Id;

use crate::{
    error::{Result, StoreError},
    frame::Frame,
    store::codec,
    topic::TopicFilter,
};

type Entry = (Scru128Id, Slice);
type Source = Box<dyn Iterator<Item = Result<Entry>> + Send>;

/// The stream and its topic index, as readers see them.
#[derive(Clone)]
pub(crate) struct Tables {
    pub(crate) db: Database,
    pub(crate) stream: Keyspace,
    pub(crate) index: Keyspace,
}

impl Tables {
    /// A consistent view of the tables as they are now.
    pub(crate) fn view(&self) -> View {
        View { tables: self.clone(), snapshot: self.db.snapshot() }
    }

    /// The stored frame `id`, expired or not.
    pub(crate) fn get(&self, id: Scru128Id) -> Result<Option<Frame>> {
        match self.stream.get(codec::id_key(id))? {
            Some(value) => codec::decode(id, &value).map(Some),
            None => Ok(None),
        }
    }

    /// The newest stored id, if any.
    pub(crate) fn last_id(&self) -> Result<Option<Scru128Id>> {
        match self.stream.last_key_value() {
            Some(guard) => Ok(codec::key_id(&guard.key()?)),
            None => Ok(None),
        }
    }
}

/// The tables as of one instant. Holding it keeps what it sees on disk, so
/// it lives only while a read of history is under way.
pub(crate) struct View {
    tables: Tables,
    snapshot: Snapshot,
}

impl View {
    /// The live frames matching `filter` with ids in `(after, upto]`, oldest first.
    pub(crate) fn scan(&self, filter: &TopicFilter, after: Option<Scru128Id>, upto: Scru128Id) -> Scan {
        Scan { entries: merged(self.sources(filter, after, upto, false), false), now: SystemTime::now() }
    }

    /// The newest `n` live frames matching `filter` with ids in `(after, upto]`, oldest first.
    pub(crate) fn newest(
        &self,
        filter: &TopicFilter,
        after: Option<Scru128Id>,
        upto: Scru128Id,
        n: usize,
    ) -> Result<Vec<Frame>> {
        let scan = Scan { entries: merged(self.sources(filter, after, upto, true), true), now: SystemTime::now() };
        let mut frames = scan.take(n).collect::<Result<Vec<_>>>()?;
        frames.reverse();
        Ok(frames)
    }

    fn sources(&self, filter: &TopicFilter, after: Option<Scru128Id>, upto: Scru128Id, rev: bool) -> Vec<Source> {
        match filter {
            TopicFilter::All => {
                let lo = after.map_or(Bound::Unbounded, |id| Bound::Excluded(codec::id_key(id).to_vec()));
                if rev {
                    let hi = Bound::Included(codec::id_key(upto).to_vec());
                    return vec![self.entries(&self.tables.stream, (lo, hi), rev)];
                }
                // Bounded by id below rather than by fjall: one integer
                // comparison per frame instead of a key comparison.
                let entries = self.entries(&self.tables.stream, (lo, Bound::Unbounded), rev);
                vec![Box::new(entries.take_while(move |e| e.as_ref().map_or(true, |(id, _)| *id <= upto)))]
            }
            TopicFilter::Patterns(patterns) => patterns
                .iter()
                .map(|p| {
                    let name = p.index_name();
                    let lo = match after {
                        Some(id) => Bound::Excluded(codec::index_key(&name, id)),
                        None => Bound::Included(codec::index_prefix(&name)),
                    };
                    let hi = Bound::Included(codec::index_key(&name, upto));
                    self.entries(&self.tables.index, (lo, hi), rev)
                })
                .collect(),
        }
    }

    /// The `(id, value)` pairs of one key range, in key order or reversed.
    fn entries(&self, ks: &Keyspace, range: (Bound<Vec<u8>>, Bound<Vec<u8>>), rev: bool) -> Source {
        let iter = self.snapshot.range(ks, range);
        let pairs = move |guard: fjall::Guard| -> Result<Entry> {
            let (key, value) = guard.into_inner()?;
            let id = codec::key_id(&key).ok_or(StoreError::Storage(fjall::Error::Unrecoverable))?;
            Ok((id, value))
        };
        if rev { Box::new(iter.rev().map(pairs)) } else { Box::new(iter.map(pairs)) }
    }
}

/// Frames pulled one at a time from a [`View`]'s open ranges, skipping
/// those whose `time:` TTL ran out before the scan began.
pub(crate) struct Scan {
    entries: Source,
    now: SystemTime,
}

impl Iterator for Scan {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let frame = self.entries.next()?.and_then(|(id, value)| codec::decode(id, &value));
            match frame {
                Ok(frame) if frame.is_expired(self.now) => continue,
                other => return Some(other),
            }
        }
    }
}

/// One id-ordered sequence of `sources`: the source itself when there is
/// only one, else their merge.
fn merged(mut sources: Vec<Source>, rev: bool) -> Source {
    if sources.len() == 1
        && let Some(only) = sources.pop()
    {
        return only;
    }
    Box::new(Merge::new(sources, rev))
}

/// A k-way merge of id-ordered sources that yields each id once.
struct Merge {
    sources: Vec<Source>,
    heads: Vec<Option<Entry>>,
    rev: bool,
    last: Option<Scru128Id>,
    failed: Option<StoreError>,
}

impl Merge {
    fn new(sources: Vec<Source>, rev: bool) -> Self {
        let mut merge = Self { heads: Vec::with_capacity(sources.len()), sources, rev, last: None, failed: None };
        for i in 0..merge.sources.len() {
            let head = merge.pull(i);
            merge.heads.push(head);
        }
        merge
    }

    fn pull(&mut self, i: usize) -> Option<Entry> {
        match self.sources[i].next()? {
            Ok(entry) => Some(entry),
            Err(e) => {
                self.failed.get_or_insert(e);
                None
            }
        }
    }

    /// The source whose head comes first in the merge order.
    fn first(&self) -> Option<usize> {
        let ids = self.heads.iter().enumerate().filter_map(|(i, h)| h.as_ref().map(|(id, _)| (*id, i)));
        if self.rev { ids.max().map(|(_, i)| i) } else { ids.min().map(|(_, i)| i) }
    }
}

impl Iterator for Merge {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.failed.take() {
                return Some(Err(e));
            }
            let i = self.first()?;
            let next = self.pull(i);
            let entry = std::mem::replace(&mut self.heads[i], next)?;
            if self.last != Some(entry.0) {
                self.last = Some(entry.0);
                return Some(Ok(entry));
            }
        }
    }
}
