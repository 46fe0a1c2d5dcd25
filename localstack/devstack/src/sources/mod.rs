//! Event sources as Lambda's event source mappings and EventBridge's targets run them.

pub mod rules;
pub mod schedules;
pub mod streams;
