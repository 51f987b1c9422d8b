//! Chinese text features of Mashangban: pure functions and in-memory indexes, no I/O.
//!
//! - [`address`]: free addresses → district, street, community (with candidates when
//!   ambiguous), from the official divisions and a gazetteer of roads, compounds, landmarks.
//! - [`classify`]: a trainable text classifier (jieba words, TF-IDF, linear SVMs) with
//!   confidences and explanations, and the figures to evaluate it.
//! - [`emergency`]: text that signals an emergency, and the number to transfer to.
//! - [`similar`]: how alike two texts are (duplicate requests).
//! - [`normalize`]: full-width folding and the clean-up the others share.

pub mod address;
pub mod anonymise;
pub mod classify;
pub mod emergency;
pub mod extract;
pub mod hotspots;
pub mod inspect;
pub mod normalize;
pub mod similar;

pub use address::{AddressIndex, EntryKind, GazetteerEntry, Level, Place, Resolution, Resolved};
pub use emergency::{Emergency, Transfer, detect as detect_emergency};
pub use inspect::inspect_reply;
