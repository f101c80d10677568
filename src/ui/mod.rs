//! Front ends: renderers of the engine's events and sources of answers. No AWS call here.

pub mod json;
pub mod line;
pub mod prompts;
pub mod tui;
