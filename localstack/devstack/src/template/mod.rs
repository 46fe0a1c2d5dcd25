//! `infra/template.yaml` as a typed model: the resources devstack provisions and the wiring it
//! emulates. The template is the single source of truth; anything in it devstack cannot
//! stand in for is an error naming the resource and property, never a silent skip.

mod document;
mod intrinsics;
mod kind;
pub mod properties;
mod wiring;
mod yaml;

pub use document::{Resource, Template};
pub use intrinsics::{Attribute, Resolver};
pub use kind::{ResourceKind, Support};
pub use properties::Properties;
pub use wiring::{
    AsyncInvoke, EventTarget, Function, FunctionEvent, HttpApi, HttpRoute, OnFailureQueue,
    RuleSpec, ScheduleSpec, StateMachine, StreamSource,
};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid YAML: {source}")]
    Parse {
        path: String,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("{at}: {message}")]
    Unsupported { at: String, message: String },
}

impl TemplateError {
    pub fn unsupported(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unsupported {
            at: at.into(),
            message: message.into(),
        }
    }
}
