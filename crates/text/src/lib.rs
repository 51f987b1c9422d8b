//! Chinese text features of Mashangban: pure functions and in-memory indexes, no I/O.
//!
//! - [`address`]: free addresses → district, street, community (with candidates when
//!   ambiguous), from the official divisions and a gazetteer of roads, compounds, landmarks.
//! - [`normalize`]: full-width folding and the clean-up the others share.

pub mod address;
pub mod normalize;

pub use address::{AddressIndex, EntryKind, GazetteerEntry, Level, Place, Resolution, Resolved};
