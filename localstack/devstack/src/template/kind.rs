//! The resource types devstack knows and what it does with each. A type missing here is a
//! parse error naming the resource, so a new kind in the template is a decision: emulate it,
//! declare it accepted but not emulated (with the reason the banner prints), or refuse it.

/// Every `Type:` devstack accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    DynamoDbTable,
    SqsQueue,
    SqsQueuePolicy,
    EventBus,
    EventRule,
    EventArchive,
    LogGroup,
    LogResourcePolicy,
    LogQueryDefinition,
    UserPool,
    UserPoolClient,
    UserPoolGroup,
    Function,
    HttpApi,
    StateMachine,
    Alarm,
    CompositeAlarm,
    Dashboard,
    SnsTopic,
    SnsSubscription,
    KmsKey,
    SsmParameter,
}

/// What devstack does with a resource of some kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Provisioned on the emulator or stood in for by devstack itself.
    Emulated,
    /// Parsed and listed in the banner, with no local effect; the reason says why.
    AcceptedNotEmulated(&'static str),
}

impl ResourceKind {
    pub const ALL: [Self; 22] = [
        Self::DynamoDbTable,
        Self::SqsQueue,
        Self::SqsQueuePolicy,
        Self::EventBus,
        Self::EventRule,
        Self::EventArchive,
        Self::LogGroup,
        Self::LogResourcePolicy,
        Self::LogQueryDefinition,
        Self::UserPool,
        Self::UserPoolClient,
        Self::UserPoolGroup,
        Self::Function,
        Self::HttpApi,
        Self::StateMachine,
        Self::Alarm,
        Self::CompositeAlarm,
        Self::Dashboard,
        Self::SnsTopic,
        Self::SnsSubscription,
        Self::KmsKey,
        Self::SsmParameter,
    ];

    /// The CloudFormation (or SAM) type name.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::DynamoDbTable => "AWS::DynamoDB::Table",
            Self::SqsQueue => "AWS::SQS::Queue",
            Self::SqsQueuePolicy => "AWS::SQS::QueuePolicy",
            Self::EventBus => "AWS::Events::EventBus",
            Self::EventRule => "AWS::Events::Rule",
            Self::EventArchive => "AWS::Events::Archive",
            Self::LogGroup => "AWS::Logs::LogGroup",
            Self::LogResourcePolicy => "AWS::Logs::ResourcePolicy",
            Self::LogQueryDefinition => "AWS::Logs::QueryDefinition",
            Self::UserPool => "AWS::Cognito::UserPool",
            Self::UserPoolClient => "AWS::Cognito::UserPoolClient",
            Self::UserPoolGroup => "AWS::Cognito::UserPoolGroup",
            Self::Function => "AWS::Serverless::Function",
            Self::HttpApi => "AWS::Serverless::HttpApi",
            Self::StateMachine => "AWS::Serverless::StateMachine",
            Self::Alarm => "AWS::CloudWatch::Alarm",
            Self::CompositeAlarm => "AWS::CloudWatch::CompositeAlarm",
            Self::Dashboard => "AWS::CloudWatch::Dashboard",
            Self::SnsTopic => "AWS::SNS::Topic",
            Self::SnsSubscription => "AWS::SNS::Subscription",
            Self::KmsKey => "AWS::KMS::Key",
            Self::SsmParameter => "AWS::SSM::Parameter",
        }
    }

    pub fn from_type_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.type_name() == name)
    }

    /// The one list of what devstack accepts without emulating it.
    pub fn support(self) -> Support {
        match self {
            Self::SnsSubscription => Support::AcceptedNotEmulated(
                "email subscriptions: nothing is emailed locally (subscribe an SQS queue to the topic to see alarms)",
            ),
            Self::LogResourcePolicy => {
                Support::AcceptedNotEmulated("resource policies: the emulator enforces no IAM")
            }
            Self::LogQueryDefinition => Support::AcceptedNotEmulated(
                "saved Logs Insights queries: moto has no PutQueryDefinition, and function logs are files locally",
            ),
            _ => Support::Emulated,
        }
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.type_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_type_name() {
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::from_type_name(kind.type_name()), Some(kind));
        }
        assert_eq!(ResourceKind::from_type_name("AWS::S3::Bucket"), None);
    }
}
