//! Retention: how long a frame is kept.
//!
//! The string forms (`forever`, `ephemeral`, `time:<ms>`, `last:<n>`) are the
//! wire format of the socket API and of `--ttl`, and they round-trip exactly.

use std::{fmt, str::FromStr, time::Duration};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::StoreError;

/// A frame's retention policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TTL {
    /// Kept until removed.
    #[default]
    Forever,
    /// Broadcast to live readers, never stored.
    Ephemeral,
    /// Gone once older than this (never returned after; swept in the background).
    Time(Duration),
    /// Only the newest `n` frames of the frame's exact topic are kept.
    Last(u32),
}

impl FromStr for TTL {
    type Err = StoreError;

    /// # Examples
    ///
    /// ```
    /// use xs_core::TTL;
    /// assert_eq!("time:1500".parse::<TTL>().unwrap(), TTL::Time(std::time::Duration::from_millis(1500)));
    /// assert!("last:0".parse::<TTL>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StoreError::InvalidTtl { ttl: s.to_string() };
        match s {
            "forever" => Ok(Self::Forever),
            "ephemeral" => Ok(Self::Ephemeral),
            _ => {
                if let Some(ms) = s.strip_prefix("time:") {
                    let ms: u64 = ms.parse().map_err(|_| bad())?;
                    Ok(Self::Time(Duration::from_millis(ms)))
                } else if let Some(n) = s.strip_prefix("last:") {
                    match n.parse::<u32>() {
                        Ok(n) if n >= 1 => Ok(Self::Last(n)),
                        _ => Err(bad()),
                    }
                } else {
                    Err(bad())
                }
            }
        }
    }
}

impl fmt::Display for TTL {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Forever => f.write_str("forever"),
            Self::Ephemeral => f.write_str("ephemeral"),
            Self::Time(d) => write!(f, "time:{}", d.as_millis()),
            Self::Last(n) => write!(f, "last:{n}"),
        }
    }
}

impl Serialize for TTL {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TTL {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        for s in ["forever", "ephemeral", "time:0", "time:3600000", "last:1", "last:42"] {
            assert_eq!(s.parse::<TTL>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in ["", "Forever", "time:", "time:-1", "time:1.5", "last:0", "last:x", "last:", "later"] {
            assert!(s.parse::<TTL>().is_err(), "{s:?} should be rejected");
        }
    }
}
