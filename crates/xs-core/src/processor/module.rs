//! Modules from the stream: `xs.module.<name>` frames hold Nushell module
//! sources that scripts `use <name>`.
//!
//! Every version is kept (by frame id), because a handler sees the modules
//! as they were when it was registered: a newer version of a module does
//! not change a running handler, nor one restarted later. An empty payload
//! removes the module from then on.

use std::collections::BTreeMap;

use scru128::Scru128Id;
use ssri::Integrity;

use crate::{frame::Frame, processor::lifecycle::MODULE, store::Store};

/// Every version of every module, by name.
#[derive(Default)]
pub(crate) struct Modules {
    by_name: BTreeMap<String, Vec<(Scru128Id, Option<Integrity>)>>,
}

impl Modules {
    /// Records `frame` if it is a module frame; says whether it was.
    pub(crate) fn apply(&mut self, frame: &Frame) -> bool {
        let Some(name) = frame.topic.strip_prefix(MODULE).and_then(|r| r.strip_prefix('.')) else {
            return false;
        };
        self.by_name.entry(name.to_string()).or_default().push((frame.id, frame.hash.clone()));
        true
    }

    /// The modules as of just before frame `id`: each name's newest
    /// version older than `id`, unless that one removed it.
    pub(crate) fn as_of(&self, id: Scru128Id) -> Vec<(String, Integrity)> {
        let newest = |versions: &Vec<(Scru128Id, Option<Integrity>)>| {
            versions.iter().rev().find(|(v, _)| *v < id).and_then(|(_, hash)| hash.clone())
        };
        self.by_name.iter().filter_map(|(name, versions)| Some((name.clone(), newest(versions)?))).collect()
    }

    /// The modules as of now: each name's newest version, unless that one
    /// removed it (what a script evaluated now may `use`).
    pub(crate) fn latest(&self) -> Vec<(String, Integrity)> {
        let newest =
            |versions: &Vec<(Scru128Id, Option<Integrity>)>| versions.last().and_then(|(_, hash)| hash.clone());
        self.by_name.iter().filter_map(|(name, versions)| Some((name.clone(), newest(versions)?))).collect()
    }
}

/// The sources of `modules`, read from the CAS.
///
/// # Errors
///
/// A module whose payload is missing or is not UTF-8.
pub(crate) fn load(store: &Store, modules: Vec<(String, Integrity)>) -> Result<Vec<(String, String)>, String> {
    modules
        .into_iter()
        .map(|(name, hash)| {
            let bytes = store.cas_read(&hash).map_err(|e| format!("module {name}: {e}"))?;
            let source = String::from_utf8(bytes).map_err(|_| format!("module {name} is not UTF-8 text"))?;
            Ok((name, source))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_applies_to_scripts_registered_after_it() {
        let mut modules = Modules::default();
        let hash = |s: &str| Integrity::from(s);
        let (v1, between, v2) = (scru128::new(), scru128::new(), scru128::new());
        modules.apply(&Frame { id: v1, hash: Some(hash("one")), ..Frame::builder("xs.module.m").build() });
        modules.apply(&Frame { id: v2, hash: None, ..Frame::builder("xs.module.m").build() });
        assert!(modules.as_of(v1).is_empty());
        assert_eq!(modules.as_of(between), [("m".to_string(), hash("one"))]);
        assert!(modules.as_of(scru128::new()).is_empty(), "removed by the empty version");
        assert!(modules.latest().is_empty());
        modules.apply(&Frame { id: scru128::new(), hash: Some(hash("two")), ..Frame::builder("xs.module.m").build() });
        assert_eq!(modules.latest(), [("m".to_string(), hash("two"))]);
        assert!(!modules.apply(&Frame::builder("xs.modules").build()));
    }
}
