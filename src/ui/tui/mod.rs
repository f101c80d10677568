//! The full-screen interface: one more renderer of the engine's events and source of answers,
//! in the Elm style — `Model` holds the state, `update` folds messages into it, `view` draws it.
//! It knows nothing of AWS; the runner turns its `Action`s into engine calls.

pub mod model;
pub mod theme;
pub mod update;
pub mod view;

pub use model::{Model, ProfileRow, Screen};
pub use theme::Theme;
pub use update::{Action, Message, update};
pub use view::view;
