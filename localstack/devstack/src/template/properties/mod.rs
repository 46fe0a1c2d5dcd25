//! The properties of each resource kind devstack emulates, as serde structs that refuse
//! unknown fields: a property devstack does not know is a parse error naming the resource, not
//! a silent skip. `Value` appears only where an intrinsic function (`!Ref`, `!Sub`, ...) may
//! stand; those are resolved against the names devstack gave the resources. Properties with no
//! local effect (billing, encryption, retention) are accepted and named as such.

pub mod cognito;
pub mod dynamodb;
pub mod events;
pub mod kms;
pub mod logs;
pub mod serverless;
pub mod sns;
pub mod sqs;
pub mod ssm;

/// The typed properties of one resource.
#[derive(Debug, Clone)]
pub enum Properties {
    Table(dynamodb::TableProperties),
    Queue(sqs::QueueProperties),
    QueuePolicy(sqs::QueuePolicyProperties),
    EventBus(events::EventBusProperties),
    Rule(events::RuleProperties),
    Archive(events::ArchiveProperties),
    LogGroup(logs::LogGroupProperties),
    UserPool(cognito::UserPoolProperties),
    UserPoolClient(cognito::UserPoolClientProperties),
    UserPoolGroup(cognito::UserPoolGroupProperties),
    Function {
        /// The cargo binary that is the function (`Metadata.BuildProperties.Binary`).
        binary: String,
        properties: Box<serverless::FunctionProperties>,
    },
    HttpApi(serverless::HttpApiProperties),
    StateMachine(serverless::StateMachineProperties),
    Key(kms::KeyProperties),
    Topic(sns::TopicProperties),
    Parameter(ssm::ParameterProperties),
    /// Properties kept as written (intrinsics unresolved): alarms and dashboards, which the
    /// monitoring reads whole, and the kinds devstack accepts without emulating.
    NotEmulated(serde_json::Value),
}
