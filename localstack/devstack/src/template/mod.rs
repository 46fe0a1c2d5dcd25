//! `infra/template.yaml` as a typed model: the resources devstack provisions and the wiring it
//! emulates. The template is the single source of truth; anything in it devstack cannot
//! stand in for is an error naming the resource and property, never a silent skip.

mod intrinsics;
mod model;
mod yaml;

pub use intrinsics::Resolver;
pub use model::{
    EventTarget, Function, FunctionEvent, HttpApi, HttpRoute, Resource, RuleSpec, StateMachine,
    StreamSource, Template,
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
