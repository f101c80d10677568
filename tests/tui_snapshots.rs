//! The full-screen interface drawn into a test backend, screen by screen, at 80×24 (the
//! smallest terminal it supports) and once at 120×40. The clock is fixed: every timer on
//! screen comes from ticks the test sends, so the snapshots never depend on the wall clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use xwizard::aws::stacks::StackEvent;
use xwizard::engine::access_changes::{AccessKind, AccessRow, RowChange};
use xwizard::engine::{
    ChangeView, CheckView, Event, KeptItem, Phase, Question, RunStatus, StackToDelete,
};
use xwizard::plan::{Pattern, Role};
use xwizard::state::{Account, Deployment, RootCause, StepFailure, StepState, StepStatus};
use xwizard::ui::tui::model::{Identity, Screen};
use xwizard::ui::tui::{Message, Model, ProfileRow, Theme, update, view};

const NAME: &str = "vpce-demo";
/// When the home screen's list was read (Unix seconds), for stable ages.
const LISTED_AT: u64 = 1_800_000_000;
const PRODUCER: &str = "111111111111";
const CONSUMER: &str = "222222222222";

fn draw(model: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|f| view(model, f)).expect("draw");
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        for x in 0..width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn account_of(role: Role) -> &'static str {
    if role == Role::Producer {
        PRODUCER
    } else {
        CONSUMER
    }
}

struct Run {
    model: Model,
    t0: Instant,
}

impl Run {
    fn new() -> Self {
        let t0 = Instant::now();
        Self {
            model: Model::new(Theme::plain(), t0),
            t0,
        }
    }

    fn at(&mut self, secs: u64) -> &mut Self {
        update(
            &mut self.model,
            Message::Tick(self.t0 + Duration::from_secs(secs)),
        );
        self
    }

    fn send(&mut self, event: Event) -> &mut Self {
        update(&mut self.model, Message::Engine(event));
        self
    }

    fn key(&mut self, code: KeyCode) -> &mut Self {
        update(&mut self.model, Message::Key(KeyEvent::from(code)));
        self
    }

    fn started(&mut self) -> &mut Self {
        self.send(Event::RunStarted {
            deployment: NAME.into(),
            pattern: xwizard::plan::Pattern::VpcEndpoint,
            region: "us-east-1".into(),
            producer_account: PRODUCER.into(),
            consumer_account: CONSUMER.into(),
        })
    }

    fn step(&mut self, step: &str, role: Role) -> &mut Self {
        let title = Pattern::ALL
            .iter()
            .flat_map(|p| p.steps())
            .find(|s| s.id == step)
            .map(|s| s.title.to_string())
            .unwrap_or_default();
        self.send(Event::StepStarted {
            step: step.into(),
            title,
            role,
            account_id: account_of(role).into(),
            phase: Phase::Deploy,
            stack: None,
            wave: None,
        })
    }

    fn done(&mut self, step: &str, seconds: f64) -> &mut Self {
        self.send(Event::StepDone {
            step: step.into(),
            phase: Phase::Deploy,
            seconds,
            api_calls: 12,
        })
    }

    fn resource(
        &mut self,
        step: &str,
        logical: &str,
        ty: &str,
        status: &str,
        reason: &str,
    ) -> &mut Self {
        let stack = format!("xw-{NAME}-{step}");
        self.send(Event::StackEvent {
            step: step.into(),
            stack: stack.clone(),
            event: StackEvent {
                event_id: format!("{logical}-{status}"),
                timestamp: "2025-06-01T10:15:42Z".into(),
                logical_id: logical.into(),
                physical_id: String::new(),
                resource_type: ty.into(),
                status: status.into(),
                reason: reason.into(),
            },
        })
    }

    fn finished(&mut self, status: RunStatus) -> &mut Self {
        self.send(Event::RunFinished {
            deployment: NAME.into(),
            status,
        })
    }

    fn stack_status(&mut self, step: &str, status: &str) -> &mut Self {
        let stack = format!("xw-{NAME}-{step}");
        self.resource(step, &stack, "AWS::CloudFormation::Stack", status, "")
    }
}

/// The consumer network stack done, the producer stack half way.
fn mid_stack() -> Run {
    let mut r = Run::new();
    r.at(0).started().step("consumer-vpc", Role::Consumer);
    r.stack_status("consumer-vpc", "CREATE_IN_PROGRESS");
    r.resource(
        "consumer-vpc",
        "Vpc",
        "AWS::EC2::VPC",
        "CREATE_IN_PROGRESS",
        "",
    );
    r.at(14).resource(
        "consumer-vpc",
        "Vpc",
        "AWS::EC2::VPC",
        "CREATE_COMPLETE",
        "",
    );
    r.stack_status("consumer-vpc", "CREATE_COMPLETE");
    r.send(Event::Outputs {
        step: "consumer-vpc".into(),
        outputs: BTreeMap::from([
            (
                "ConsumerVpcEndpointId".into(),
                "vpce-0a1b2c3d4e5f60718".into(),
            ),
            (
                "ApiKeySecretArn".into(),
                format!(
                    "arn:aws:secretsmanager:us-east-1:{CONSUMER}:secret:xw-{NAME}-api-key-AbCdEf"
                ),
            ),
        ]),
    });
    r.at(95).done("consumer-vpc", 95.2);
    r.step("register-targets", Role::Consumer);
    r.send(Event::Info {
        step: "register-targets".into(),
        message: "registered 2 targets on port 443".into(),
    });
    r.at(99).done("register-targets", 3.8);
    r.step("producer", Role::Producer);
    r.stack_status("producer", "CREATE_IN_PROGRESS");
    for (logical, ty) in [
        ("ProducerApi", "AWS::ApiGateway::RestApi"),
        ("ApiKeyAuthorizerRole", "AWS::IAM::Role"),
        (
            "ApiKeyAuthorizerFunctionWithALongName",
            "AWS::Lambda::Function",
        ),
        ("ProducerApiAuthorizer", "AWS::ApiGateway::Authorizer"),
    ] {
        r.resource("producer", logical, ty, "CREATE_IN_PROGRESS", "");
    }
    r.at(111).resource(
        "producer",
        "ProducerApi",
        "AWS::ApiGateway::RestApi",
        "CREATE_COMPLETE",
        "",
    );
    r.resource(
        "producer",
        "ApiKeyAuthorizerRole",
        "AWS::IAM::Role",
        "CREATE_COMPLETE",
        "",
    );
    r.at(130);
    r
}

fn failed() -> Run {
    let mut r = mid_stack();
    let reason = "Resource handler returned message: \"Invalid permissions on Lambda function \
                  (Service: ApiGateway, Status Code: 400)\"";
    r.resource(
        "producer",
        "ProducerApiAuthorizer",
        "AWS::ApiGateway::Authorizer",
        "CREATE_FAILED",
        reason,
    );
    r.resource(
        "producer",
        "ApiKeyAuthorizerFunctionWithALongName",
        "AWS::Lambda::Function",
        "CREATE_FAILED",
        "Resource creation cancelled",
    );
    r.stack_status("producer", "ROLLBACK_COMPLETE");
    r.at(160).send(Event::StepFailed {
        step: "producer".into(),
        phase: Phase::Deploy,
        message: format!("stack xw-{NAME}-producer is ROLLBACK_COMPLETE"),
        root_cause: Some(RootCause {
            logical_id: "ProducerApiAuthorizer".into(),
            resource_type: "AWS::ApiGateway::Authorizer".into(),
            status: "CREATE_FAILED".into(),
            reason: reason.into(),
        }),
        next: format!(
            "fix the cause above, then `xwizard resume {NAME}` deletes the failed stack and makes it again"
        ),
    });
    r.finished(RunStatus::Failed);
    r
}

fn check(
    name: &str,
    request: &str,
    status: u16,
    expected: &str,
    body: &str,
    passed: bool,
) -> Event {
    Event::Check {
        step: "test".into(),
        check: CheckView {
            name: name.into(),
            request: request.into(),
            expected: expected.into(),
            status: Some(status),
            body: body.into(),
            latency_ms: 180 + u64::from(status) / 10,
            passed,
            // The first call waited out a warming-up API.
            attempts: if name.ends_with("with the key") { 3 } else { 1 },
        },
    }
}

fn tested(one_fails: bool) -> Run {
    let mut r = Run::new();
    r.at(0).started();
    let steps = Pattern::VpcEndpoint.steps();
    for (i, s) in steps.iter().enumerate() {
        r.step(s.id, s.role);
        if s.id != "test" {
            r.done(s.id, 20.0 + i as f64 * 31.0);
        }
    }
    let url = "https://abc123.execute-api.us-east-1.amazonaws.com/prod/widgets";
    r.send(check(
        "API with the key",
        &format!("GET {url} (Authorization: <API key>)"),
        200,
        "200",
        r#"{"widgets": [{"id": 1, "name": "sprocket"}]}"#,
        true,
    ));
    r.send(check(
        "API without a key",
        &format!("GET {url}"),
        401,
        "401 or 403",
        r#"{"message": "Unauthorized"}"#,
        true,
    ));
    r.send(check(
        "API with a wrong key",
        &format!("GET {url} (Authorization: wrong)"),
        if one_fails { 200 } else { 403 },
        "401 or 403",
        if one_fails {
            r#"{"widgets": [{"id": 1, "name": "sprocket"}]}"#
        } else {
            r#"{"message": "User is not authorized to access this resource"}"#
        },
        !one_fails,
    ));
    r.send(check(
        "consumer function",
        &format!("Lambda Invoke xw-{NAME}-consumer-fn"),
        200,
        "200 with the producer's widgets",
        r#"{"statusCode": 200, "body": "{\"widgets\": [...]}"}"#,
        true,
    ));
    r.send(check(
        "producer refuses a call through another endpoint",
        &format!(
            "Lambda Invoke xw-{NAME}-consumer-fn {{\"dns_name\":\"vpce-0b2c-x1.execute-api.us-east-1.vpce.amazonaws.com\",\"endpoint_id\":\"vpce-0b2c\",\"probe\":\"other-endpoint\"}}"
        ),
        403,
        "403 from the producer's resource policy",
        r#"{"Message": "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:111111111111:abc123/prod/GET/widgets with an explicit deny"}"#,
        true,
    ));
    r.send(check(
        "producer refuses a wrong key",
        &format!("Lambda Invoke xw-{NAME}-consumer-fn {{\"probe\":\"wrong-key\"}}"),
        403,
        "403 from the producer's authorizer",
        r#"{"Message": "User is not authorized to access this resource with an explicit deny"}"#,
        true,
    ));
    r.at(240).done("test", 2.4);
    r.finished(if one_fails {
        RunStatus::Failed
    } else {
        RunStatus::Deployed
    });
    r
}

fn destroy_question(r: &mut Run) {
    update(
        &mut r.model,
        Message::Ask(Question::Destroy {
            deployment: NAME.into(),
            stacks: vec![
                to_delete("consumer-vpc", Role::Consumer, 1),
                to_delete("producer", Role::Producer, 0),
                to_delete("consumer-api", Role::Consumer, 0),
            ],
        }),
    );
}

fn to_delete(step: &str, role: Role, wave: u8) -> StackToDelete {
    StackToDelete {
        step: step.into(),
        stack: format!("xw-{NAME}-{step}"),
        role,
        account_id: account_of(role).into(),
        wave,
    }
}

fn deployment(name: &str, failed_at: Option<&str>) -> Deployment {
    let mut steps = BTreeMap::new();
    for s in Pattern::VpcEndpoint.steps() {
        let mut state = StepState {
            status: StepStatus::Done,
            ..StepState::default()
        };
        if let Some(f) = failed_at {
            if s.id == f {
                state.status = StepStatus::Failed;
                state.failure = Some(StepFailure {
                    message: "stack is ROLLBACK_COMPLETE".into(),
                    root_cause: Some(RootCause {
                        logical_id: "ConsumerNlb".into(),
                        resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer".into(),
                        status: "CREATE_FAILED".into(),
                        reason: "Injected failure: the sandbox was asked to fail this resource"
                            .into(),
                    }),
                    next: format!("fix the cause above, then `xwizard resume {name}`"),
                });
            }
            if s.id != f && state.status == StepStatus::Done && s.id != "consumer-vpc" {
                state.status = StepStatus::Pending;
            }
        }
        steps.insert(s.id.to_string(), state);
    }
    Deployment {
        schema_version: 1,
        name: name.into(),
        pattern: Pattern::VpcEndpoint,
        region: "eu-west-2".into(),
        created_at: 0,
        updated_at: 0,
        producer: Account {
            profile: "sandbox-producer".into(),
            account_id: PRODUCER.into(),
            arn: format!("arn:aws:iam::{PRODUCER}:user/producer"),
        },
        consumer: Account {
            profile: "sandbox-consumer".into(),
            account_id: CONSUMER.into(),
            arn: format!("arn:aws:iam::{CONSUMER}:user/consumer"),
        },
        profile_files: None,
        settings: Default::default(),
        steps,
    }
}

fn profiles_screen() -> Run {
    profiles_screen_of('1')
}

/// The profiles screen after the pattern screen chose the pattern numbered `pattern`.
fn profiles_screen_of(pattern: char) -> Run {
    let mut r = Run::new();
    update(
        &mut r.model,
        Message::Profiles(vec![
            ProfileRow {
                name: "default".into(),
                kind: "keys".into(),
                region: Some("us-east-1".into()),
            },
            ProfileRow {
                name: "sandbox-consumer".into(),
                kind: "keys".into(),
                region: Some("us-east-1".into()),
            },
            ProfileRow {
                name: "sandbox-producer".into(),
                kind: "keys".into(),
                region: Some("us-east-1".into()),
            },
            ProfileRow {
                name: "work-consumer-admin-with-a-long-name".into(),
                kind: "sso".into(),
                region: Some("eu-west-2".into()),
            },
        ]),
    );
    r.key(KeyCode::Char('n'))
        .key(KeyCode::Char(pattern))
        .key(KeyCode::Enter);
    assert_eq!(r.model.screen, Screen::Profiles);
    r
}

fn identity(r: &mut Run, role: Role, profile: &str, result: Result<(String, String), String>) {
    update(
        &mut r.model,
        Message::Identity {
            role,
            profile: profile.into(),
            result,
        },
    );
}

/// STS answers for the producer: `sandbox-producer` is a user in the producer account.
fn producer_identity(r: &mut Run) {
    identity(
        r,
        Role::Producer,
        "sandbox-producer",
        Ok((
            PRODUCER.into(),
            format!("arn:aws:iam::{PRODUCER}:user/producer"),
        )),
    );
}

fn verified_profiles() -> Run {
    verified_profiles_of('1')
}

fn verified_profiles_of(pattern: char) -> Run {
    let mut r = profiles_screen_of(pattern);
    r.key(KeyCode::Enter); // producer: sandbox-producer
    r.key(KeyCode::Enter); // consumer: sandbox-consumer
    identity(
        &mut r,
        Role::Producer,
        "sandbox-producer",
        Ok((
            PRODUCER.into(),
            format!("arn:aws:sts::{PRODUCER}:assumed-role/Admin/alice"),
        )),
    );
    identity(
        &mut r,
        Role::Consumer,
        "sandbox-consumer",
        Ok((
            CONSUMER.into(),
            format!("arn:aws:iam::{CONSUMER}:user/consumer-deployer"),
        )),
    );
    r
}

#[test]
fn home_empty() {
    let r = Run::new();
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn home_with_deployments() {
    let mut r = Run::new();
    update(
        &mut r.model,
        Message::Deployments(
            vec![
                deployment("vpce-3f2a", None),
                deployment("vpce-demo", Some("consumer-vpc")),
                deployment("vpce-workshop-eu-01", Some("producer")),
            ]
            .into_iter()
            .zip([40 * 60, 26 * 3600, 9 * 86400])
            // Listed by their last change, which is the age shown.
            .map(|(d, age)| Deployment {
                created_at: LISTED_AT - age - 7 * 86400,
                updated_at: LISTED_AT - age,
                ..d
            })
            .collect(),
            LISTED_AT,
        ),
    );
    r.key(KeyCode::Down);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn pattern_choice() {
    let mut r = Run::new();
    r.key(KeyCode::Char('n'));
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn profiles_verified() {
    let r = verified_profiles();
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn profiles_sts_error() {
    let mut r = profiles_screen();
    r.key(KeyCode::Enter);
    r.key(KeyCode::Down).key(KeyCode::Down); // the SSO profile
    r.key(KeyCode::Enter);
    producer_identity(&mut r);
    identity(
        &mut r,
        Role::Consumer,
        "work-consumer-admin-with-a-long-name",
        Err("the SSO session has expired or is invalid".into()),
    );
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn profiles_same_account() {
    let mut r = profiles_screen();
    r.key(KeyCode::Enter);
    r.key(KeyCode::Up); // default
    r.key(KeyCode::Enter);
    producer_identity(&mut r);
    identity(
        &mut r,
        Role::Consumer,
        "default",
        Ok((PRODUCER.into(), format!("arn:aws:iam::{PRODUCER}:user/me"))),
    );
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn parameters_with_an_invalid_name() {
    let mut r = verified_profiles();
    r.key(KeyCode::Char('c'));
    assert_eq!(r.model.screen, Screen::Parameters);
    r.key(KeyCode::Tab);
    for _ in 0.."vpce-demo".len() {
        r.key(KeyCode::Backspace);
    }
    for c in "Demo_1".chars() {
        r.key(KeyCode::Char(c));
    }
    r.key(KeyCode::Enter);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

fn change_set_question() -> Question {
    let change = |action: &str, logical: &str, ty: &str, access: bool| ChangeView {
        action: action.into(),
        logical_id: logical.into(),
        resource_type: ty.into(),
        replacement: None,
        access,
        replaced_by: Vec::new(),
        details: Vec::new(),
    };
    let added = |kind: AccessKind, text: &str| AccessRow {
        change: RowChange::Added,
        kind,
        text: text.into(),
    };
    let mut changes = vec![
        change("Add", "Vpc", "AWS::EC2::VPC", false),
        change("Add", "PublicSubnet1", "AWS::EC2::Subnet", false),
        change("Add", "PublicSubnet2", "AWS::EC2::Subnet", false),
        change("Add", "PrivateSubnet1", "AWS::EC2::Subnet", false),
        change("Add", "PrivateSubnet2", "AWS::EC2::Subnet", false),
        change("Add", "NatGateway", "AWS::EC2::NatGateway", false),
        ChangeView {
            details: vec![added(
                AccessKind::Ingress,
                "ingress tcp 443 from 10.0.0.0/16",
            )],
            ..change(
                "Add",
                "EndpointSecurityGroup",
                "AWS::EC2::SecurityGroup",
                true,
            )
        },
        change("Add", "ConsumerVpcEndpoint", "AWS::EC2::VPCEndpoint", false),
        ChangeView {
            details: vec![added(
                AccessKind::ResourcePolicy,
                "Allow kms:Decrypt ← arn:aws:iam::111111111111:root on * \
                 if kms:ViaService = secretsmanager.us-east-1.amazonaws.com",
            )],
            ..change("Add", "ApiKeyKmsKey", "AWS::KMS::Key", true)
        },
        change("Add", "ApiKeySecret", "AWS::SecretsManager::Secret", false),
        change(
            "Add",
            "ApiKeySecretResourcePolicy",
            "AWS::SecretsManager::ResourcePolicy",
            true,
        ),
        ChangeView {
            details: vec![
                added(
                    AccessKind::Trust,
                    "Allow sts:AssumeRole ← lambda.amazonaws.com",
                ),
                added(
                    AccessKind::ManagedPolicy,
                    "managed AWSLambdaVPCAccessExecutionRole",
                ),
            ],
            ..change("Add", "RotationFunctionRole", "AWS::IAM::Role", true)
        },
        change(
            "Add",
            "ConsumerNlb",
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            false,
        ),
        change(
            "Add",
            "ApiTargetGroup",
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            false,
        ),
        change(
            "Add",
            "NlbListener",
            "AWS::ElasticLoadBalancingV2::Listener",
            false,
        ),
        change("Add", "FlowLogGroup", "AWS::Logs::LogGroup", false),
    ];
    changes.push(ChangeView {
        replacement: Some("True".into()),
        replaced_by: vec!["VpcId (from Vpc)".into()],
        ..change("Modify", "PrivateRouteTable", "AWS::EC2::RouteTable", false)
    });
    Question::ApplyChangeSet {
        step: "consumer-vpc".into(),
        stack: format!("xw-{NAME}-consumer-vpc"),
        account_id: CONSUMER.into(),
        changes,
    }
}

#[test]
fn review_change_set_with_access_changes() {
    let mut r = Run::new();
    r.at(0).started().step("consumer-vpc", Role::Consumer);
    update(&mut r.model, Message::Ask(change_set_question()));
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

/// At 100 columns and more every type shows whole, and the end of the list (the replacement
/// and its cause) is reached by scrolling.
#[test]
fn review_change_set_wide_scrolled_to_the_end() {
    let mut r = Run::new();
    r.at(0).started().step("consumer-vpc", Role::Consumer);
    update(&mut r.model, Message::Ask(change_set_question()));
    for _ in 0..30 {
        r.key(KeyCode::Down);
    }
    insta::assert_snapshot!(draw(&r.model, 100, 24));
}

/// From 100 columns every type shows whole, however wide; narrower, a review still draws.
#[test]
fn review_types_are_whole_from_100_columns() {
    let mut r = Run::new();
    r.at(0).started().step("consumer-vpc", Role::Consumer);
    update(&mut r.model, Message::Ask(change_set_question()));
    for _ in 0..30 {
        r.key(KeyCode::Down);
    }
    for width in [24, 40, 60, 80, 99, 100, 101, 120, 160, 240] {
        let screen = draw(&r.model, width, 24);
        let whole = [
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            "AWS::EC2::RouteTable",
        ]
        .iter()
        .all(|ty| screen.contains(ty));
        assert!(whole || width < 100, "at {width} columns:\n{screen}");
        assert!(
            screen.contains("VpcId (from Vpc)") || width < 60,
            "{screen}"
        );
    }
}

#[test]
fn review_delete_failed_stack() {
    let mut r = Run::new();
    r.at(0).started().step("producer", Role::Producer);
    update(
        &mut r.model,
        Message::Ask(Question::DeleteFailedStack {
            step: "producer".into(),
            stack: format!("xw-{NAME}-producer"),
            account_id: PRODUCER.into(),
            status: "ROLLBACK_COMPLETE".into(),
        }),
    );
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn deploy_mid_stack() {
    let r = mid_stack();
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn deploy_mid_stack_120x40() {
    let r = mid_stack();
    insta::assert_snapshot!(draw(&r.model, 120, 40));
}

#[test]
fn error_with_root_cause() {
    let r = failed();
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn deploy_after_a_failure() {
    let mut r = failed();
    r.key(KeyCode::Char('l'));
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn tests_all_pass() {
    let r = tested(false);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn tests_one_fails() {
    let r = tested(true);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn tests_all_pass_with_cleanup_offer() {
    let mut r = tested(false);
    destroy_question(&mut r);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn cleanup_confirm() {
    let mut r = tested(false);
    destroy_question(&mut r);
    r.key(KeyCode::Char('c'));
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

/// A tested deployment whose cleanup the user has just confirmed.
fn destroying() -> Run {
    let mut r = tested(false);
    destroy_question(&mut r);
    r.key(KeyCode::Char('c'));
    r.key(KeyCode::Char('y'));
    r
}

fn deleting(r: &mut Run, step: &str, role: Role) {
    r.send(Event::StepStarted {
        step: step.into(),
        title: format!("Delete stack xw-{NAME}-{step}"),
        role,
        account_id: account_of(role).into(),
        phase: Phase::Cleanup,
        stack: Some(format!("xw-{NAME}-{step}")),
        wave: Some(u8::from(step == "consumer-vpc")),
    });
    r.stack_status(step, "DELETE_IN_PROGRESS");
}

fn deleted(r: &mut Run, step: &str) {
    r.stack_status(step, "DELETE_COMPLETE");
    r.send(Event::StepDone {
        step: step.into(),
        phase: Phase::Cleanup,
        seconds: 30.0,
        api_calls: 9,
    });
}

#[test]
fn cleanup_in_progress() {
    let mut r = destroying();
    deleting(&mut r, "producer", Role::Producer);
    deleting(&mut r, "consumer-api", Role::Consumer);
    r.resource(
        "consumer-api",
        "ConsumerFunction",
        "AWS::Lambda::Function",
        "DELETE_IN_PROGRESS",
        "",
    );
    deleted(&mut r, "consumer-api");
    r.resource(
        "producer",
        "ProducerApi",
        "AWS::ApiGateway::RestApi",
        "DELETE_IN_PROGRESS",
        "",
    );
    r.resource(
        "producer",
        "ApiKeyAuthorizerFunctionWithALongName",
        "AWS::Lambda::Function",
        "DELETE_IN_PROGRESS",
        "",
    );
    r.at(400);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn cleanup_with_leftovers() {
    let mut r = destroying();
    deleting(&mut r, "producer", Role::Producer);
    deleted(&mut r, "producer");
    deleting(&mut r, "consumer-api", Role::Consumer);
    deleted(&mut r, "consumer-api");
    deleting(&mut r, "consumer-vpc", Role::Consumer);
    r.send(Event::CleanupResult {
        leftovers: vec![
            format!("stack xw-{NAME}-consumer-vpc (DELETE_FAILED)"),
            format!("vpc-0f00ba4 (xwizard:deployment={NAME}) in account {CONSUMER}"),
        ],
        removed: Vec::new(),
        kept: Vec::new(),
        clean: false,
    });
    r.send(Event::StepFailed {
        step: "consumer-vpc".into(),
        phase: Phase::Cleanup,
        message: format!(
            "xw-{NAME}-consumer-vpc is DELETE_FAILED: The following resource(s) failed to delete: [EndpointSecurityGroup]"
        ),
        root_cause: Some(RootCause {
            logical_id: "EndpointSecurityGroup".into(),
            resource_type: "AWS::EC2::SecurityGroup".into(),
            status: "DELETE_FAILED".into(),
            reason: "resource sg-0f00 has a dependent object".into(),
        }),
        next: format!("remove what blocks it, then `xwizard destroy {NAME}` again"),
    });
    r.finished(RunStatus::CleanupIncomplete);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

/// A cleanup whose three stacks are all gone.
fn every_stack_deleted() -> Run {
    let mut r = destroying();
    for (step, role) in [
        ("producer", Role::Producer),
        ("consumer-api", Role::Consumer),
        ("consumer-vpc", Role::Consumer),
    ] {
        deleting(&mut r, step, role);
        deleted(&mut r, step);
    }
    r
}

#[test]
fn cleanup_done() {
    let mut r = every_stack_deleted();
    r.send(Event::CleanupResult {
        leftovers: Vec::new(),
        removed: Vec::new(),
        kept: Vec::new(),
        clean: true,
    });
    r.finished(RunStatus::Destroyed);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

/// Pattern 2's cleanup also says what went besides the stacks, and keeps a bought Private CA
/// unless asked.
#[test]
fn cleanup_done_with_keys_and_a_kept_private_ca() {
    let mut r = every_stack_deleted();
    r.send(Event::CleanupResult {
        leftovers: Vec::new(),
        removed: vec![
            "private key ca-key from the Linux kernel keyring".into(),
            format!(
                "the certificate's validation record _0a1b2c.{NAME}.xwizard.test \
                 (CloudFormation leaves it in xwizard.test's zone)"
            ),
        ],
        kept: vec![KeptItem {
            what: format!(
                "AWS Private CA arn:aws:acm-pca:us-east-1:{PRODUCER}:certificate-authority/1f2e (us-east-1)"
            ),
            why: format!(
                "it costs money every month until deleted; `xwizard destroy {NAME} \
                 --delete-private-ca` disables and deletes it"
            ),
        }],
        clean: true,
    });
    r.finished(RunStatus::Destroyed);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn quit_after_a_destroy_offers_forget() {
    let mut r = every_stack_deleted();
    r.finished(RunStatus::Destroyed);
    r.key(KeyCode::Char('q'));
    let screen = draw(&r.model, 80, 24);
    assert!(
        screen.contains(&format!("xwizard forget {NAME}")),
        "{screen}"
    );
    assert!(!screen.contains("xwizard status"), "{screen}");
}

#[test]
fn cleanup_done_keeping_the_logging_role() {
    let mut r = every_stack_deleted();
    let why = "API Gateway's CloudWatch logging role: every REST API of its account and region \
               logs through it; delete it only after pointing API Gateway's account settings at \
               another role";
    let kept = |what: String| KeptItem {
        what,
        why: why.into(),
    };
    r.send(Event::CleanupResult {
        leftovers: Vec::new(),
        removed: Vec::new(),
        kept: vec![
            kept(format!(
                "arn:aws:iam::{PRODUCER}:role/xw-{NAME}-producer-ApiGatewayCloudW-Q7 (us-east-1)"
            )),
            kept(format!(
                "arn:aws:iam::{CONSUMER}:role/xw-{NAME}-consumer-api-ApiGatewayCl-X1 (us-east-1)"
            )),
        ],
        clean: true,
    });
    r.finished(RunStatus::Destroyed);
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn help_overlay() {
    let mut r = mid_stack();
    r.key(KeyCode::Char('?'));
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn quit_confirm() {
    let mut r = mid_stack();
    r.key(KeyCode::Char('q'));
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn resumed_deployment_shows_saved_steps() {
    let d = deployment(NAME, Some("producer"));
    let model = Model::for_deployment(Theme::plain(), Instant::now(), &d);
    insta::assert_snapshot!(draw(&model, 80, 24));
}

#[test]
fn identity_states_render_for_checking() {
    let mut r = profiles_screen();
    r.key(KeyCode::Enter);
    assert!(matches!(
        r.model.profiles.producer_identity,
        Identity::Checking
    ));
}

/// The screens a run goes through, each at the smallest supported terminal and at a large one:
/// every pane keeps its title and at least a row of its content.
#[test]
fn every_run_screen_at_60x15_and_120x40() {
    let mut review = mid_stack();
    update(&mut review.model, Message::Ask(change_set_question()));
    let mut offer = tested(false);
    destroy_question(&mut offer);
    let mut cleanup = destroying();
    deleting(&mut cleanup, "producer", Role::Producer);
    cleanup.resource(
        "producer",
        "ProducerApi",
        "AWS::ApiGateway::RestApi",
        "DELETE_IN_PROGRESS",
        "",
    );
    let mut home = Run::new();
    update(
        &mut home.model,
        Message::Deployments(vec![deployment("vpce-demo", Some("producer"))], LISTED_AT),
    );
    let mut pattern = Run::new();
    pattern.key(KeyCode::Char('n'));
    let screens = [
        ("deploy", mid_stack(), "Events"),
        ("failed", failed(), "Root cause"),
        ("review", review, "changes"),
        ("tests", offer, "Clean up now?"),
        ("cleanup", cleanup, "now: producer"),
        ("home", home, "vpce-demo"),
        ("pattern", pattern, "VPC endpoint"),
    ];
    for (name, r, must_show) in screens {
        for (w, h) in [(60, 15), (120, 40)] {
            let screen = draw(&r.model, w, h);
            assert!(
                screen.contains(must_show),
                "{name} at {w}x{h} lost '{must_show}':\n{screen}"
            );
            assert!(
                !screen.contains("Make the window larger"),
                "{name} at {w}x{h}"
            );
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
        }
    }
}

#[test]
fn below_60x15_the_screen_asks_for_a_larger_window() {
    let r = mid_stack();
    for (w, h) in [(59, 15), (60, 14), (40, 10)] {
        let screen = draw(&r.model, w, h);
        assert!(screen.contains("Make the window larger"), "{screen}");
        assert!(screen.contains(&format!("{w}×{h}")), "{screen}");
    }
}

#[test]
fn a_step_timer_counts_aws_time_not_the_time_the_review_was_read() {
    let mut r = Run::new();
    r.at(0).started().step("producer", Role::Producer);
    update(&mut r.model, Message::Ask(change_set_question()));
    // A minute spent reading the change set, then applied, then 20 s of CloudFormation.
    r.at(60).key(KeyCode::Char('y'));
    r.at(80);
    let screen = draw(&r.model, 80, 24);
    let row = screen
        .lines()
        .find(|l| l.contains("▶P producer"))
        .expect("the producer step row");
    assert!(row.contains(" 20s"), "{row}");
    // While a question waits, the timer stands still.
    update(&mut r.model, Message::Ask(change_set_question()));
    r.at(200);
    let m = &r.model;
    let row = m.step_row("producer").expect("the producer step");
    assert_eq!(
        row.time(m.now, m.asked_since),
        Some(Duration::from_secs(20))
    );
}

#[test]
fn a_retrying_check_shows_each_attempt_and_its_whole_cause_as_it_happens() {
    let mut r = Run::new();
    r.at(0).started().step("test", Role::Consumer);
    let cause = "error sending request for url (https://abc123.execute-api.us-east-1.amazonaws.com\
                 /prod/widgets): client error (Connect): tcp connect error: Connection refused \
                 (os error 111) — the end of this cause must be on screen";
    for attempt in 1..=2 {
        r.send(Event::CheckRetry {
            step: "test".into(),
            check: "consumer API with the API key".into(),
            attempt,
            cause: format!("{cause} #{attempt}"),
        });
    }
    let screen = draw(&r.model, 80, 24);
    assert!(screen.contains("is asking again"), "{screen}");
    assert!(
        screen.contains("attempt 1:") && screen.contains("attempt 2:"),
        "{screen}"
    );
    assert!(screen.contains("must be on screen #2"), "{screen}");
    // The verdict keeps the attempts that led to it.
    r.send(check(
        "consumer API with the API key",
        "GET https://abc123.execute-api.us-east-1.amazonaws.com/prod/widgets",
        200,
        "200 and the widget",
        r#"{"id":"1","value":"4.99"}"#,
        true,
    ));
    let screen = draw(&r.model, 80, 24);
    assert!(screen.contains("✔ all 1 checks passed"), "{screen}");
    assert!(screen.contains("must be on screen #1"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn outputs_and_resources_are_shown_in_full_and_esc_returns() {
    let mut r = mid_stack();
    r.send(Event::Outputs {
        step: "producer".into(),
        outputs: BTreeMap::from([(
            "ProducerApiExecuteArn".into(),
            format!(
                "arn:aws:execute-api:us-east-1:{PRODUCER}:abcdefghij/prod/GET/widgets/with/a/path/long/enough/to/wrap/at/eighty/columns/END"
            ),
        )]),
    });
    r.key(KeyCode::Char('o'));
    let screen = draw(&r.model, 80, 24);
    assert!(screen.contains("columns/END"), "{screen}");
    assert!(screen.contains("Outputs · 3"), "{screen}");
    r.key(KeyCode::Esc);
    r.key(KeyCode::Char('r'));
    let screen = draw(&r.model, 80, 24);
    assert!(
        screen.contains("ApiKeyAuthorizerFunctionWithALongName"),
        "the full name: {screen}"
    );
    insta::assert_snapshot!(screen);
    r.key(KeyCode::Esc);
    assert!(draw(&r.model, 80, 24).contains(" Events "));
}

#[test]
fn the_events_pane_scrolls_back_and_end_follows_again() {
    let mut r = mid_stack();
    for i in 0..40 {
        r.send(Event::Info {
            step: "producer".into(),
            message: format!("line {i:02}"),
        });
    }
    let newest = draw(&r.model, 80, 24);
    assert!(newest.contains("line 39"), "{newest}");
    r.key(KeyCode::PageUp).key(KeyCode::PageUp);
    let back = draw(&r.model, 80, 24);
    assert!(!back.contains("line 39"), "{back}");
    assert!(back.contains("rows back"), "{back}");
    r.key(KeyCode::End);
    assert_eq!(draw(&r.model, 80, 24), newest);
}

#[test]
fn esc_goes_back_to_the_deployments_once_the_run_is_over() {
    let mut r = mid_stack();
    let esc = |r: &mut Run| update(&mut r.model, Message::Key(KeyEvent::from(KeyCode::Esc)));
    assert_eq!(esc(&mut r), None, "not while the run goes on");
    r.finished(RunStatus::Failed);
    r.model.screen = Screen::Deploy;
    assert_eq!(esc(&mut r), Some(xwizard::ui::tui::Action::Home));
}

#[test]
fn a_wave_of_both_accounts_shows_both_acting() {
    let mut r = destroying();
    deleting(&mut r, "producer", Role::Producer);
    deleting(&mut r, "consumer-api", Role::Consumer);
    let header = |r: &Run| {
        draw(&r.model, 120, 40)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    };
    let both = header(&r);
    assert!(
        both.contains(&format!("producer · {PRODUCER} + consumer · {CONSUMER}")),
        "{both}"
    );
    deleted(&mut r, "consumer-api");
    let header = header(&r);
    assert!(
        header.contains(&format!("acting: producer · {PRODUCER}")),
        "{header}"
    );
    assert!(!header.contains("consumer ·"), "{header}");
}

#[test]
fn mfa_code_box_shows_dots_and_hands_the_code_over_once_complete() {
    use xwizard::ui::tui::Action;
    let mut r = profiles_screen();
    update(
        &mut r.model,
        Message::AskCode {
            serial: "arn:aws:iam::111111111111:mfa/xwizard-sandbox".into(),
            profile: "sandbox-producer-mfa".into(),
        },
    );
    for c in "40x2".chars() {
        r.key(KeyCode::Char(c));
    }
    // Enter before six digits does nothing; the letter was not taken.
    assert_eq!(
        update(&mut r.model, Message::Key(KeyEvent::from(KeyCode::Enter))),
        None
    );
    let screen = draw(&r.model, 80, 24);
    assert!(!screen.contains("402"), "the digits are drawn: {screen}");
    insta::assert_snapshot!(screen);
    // A seventh digit is not taken; Backspace takes the last one back.
    for c in "9178".chars() {
        r.key(KeyCode::Char(c));
    }
    r.key(KeyCode::Backspace);
    r.key(KeyCode::Char('7'));
    assert_eq!(
        update(&mut r.model, Message::Key(KeyEvent::from(KeyCode::Enter))),
        Some(Action::Code(Some("402917".into())))
    );
    assert!(r.model.code_entry.is_none());
    // Esc gives none.
    update(
        &mut r.model,
        Message::AskCode {
            serial: "s".into(),
            profile: "p".into(),
        },
    );
    assert_eq!(
        update(&mut r.model, Message::Key(KeyEvent::from(KeyCode::Esc))),
        Some(Action::Code(None))
    );
}

const MTLS: &str = "mtls-demo";

/// Pattern 2's run up to its connection question: every step before it done, the
/// acceptance under way.
fn mtls_run() -> Run {
    let mut r = Run::new();
    r.at(0).send(Event::RunStarted {
        deployment: MTLS.into(),
        pattern: Pattern::MtlsPrivateLink,
        region: "us-east-1".into(),
        producer_account: PRODUCER.into(),
        consumer_account: CONSUMER.into(),
    });
    let steps = Pattern::MtlsPrivateLink.steps();
    for (i, s) in steps.iter().enumerate() {
        if s.id == "test" {
            break;
        }
        r.at(i as u64 * 40).step(s.id, s.role);
        if s.id != "accept-connection" {
            r.at(i as u64 * 40 + 31).done(s.id, 31.0);
        }
    }
    r
}

fn connection_request(requester: &str) -> xwizard::engine::ConnectionRequest {
    xwizard::engine::ConnectionRequest {
        service_id: "vpce-svc-0a1b2c3d4e5f60718".into(),
        endpoint_id: "vpce-0123456789abcdef0".into(),
        requester_account: requester.into(),
        expected_account: CONSUMER.into(),
        vpc_id: "vpc-0fedcba9876543210".into(),
        account_id: PRODUCER.into(),
    }
}

/// The acceptance screen: the consumer's endpoint (or a stranger's) asks to connect.
fn connection_asked(requester: &str) -> Run {
    let mut r = mtls_run();
    r.send(Event::ConnectionPending {
        step: "accept-connection".into(),
        request: connection_request(requester),
    });
    update(
        &mut r.model,
        Message::Ask(Question::AcceptConnection {
            step: "accept-connection".into(),
            request: connection_request(requester),
        }),
    );
    assert_eq!(r.model.screen, Screen::Connection);
    r
}

/// `l` on the acceptance screen: the run ends waiting, as the engine reports it.
fn left_waiting() -> Run {
    let mut r = connection_asked(CONSUMER);
    r.at(400).key(KeyCode::Char('l'));
    r.send(Event::ConnectionAnswered {
        step: "accept-connection".into(),
        endpoint_id: "vpce-0123456789abcdef0".into(),
        answer: xwizard::engine::ConnectionAnswer::Later,
        by: "you".into(),
    });
    r.send(Event::StepWaiting {
        step: "accept-connection".into(),
        message: format!(
            "the connection of vpce-0123456789abcdef0 (account {CONSUMER}, VPC \
             vpc-0fedcba9876543210) waits for your answer"
        ),
        next: format!(
            "`xwizard resume {MTLS}` asks again; `xwizard resume {MTLS} --accept-connection` \
             accepts it without asking"
        ),
    });
    r.send(Event::RunFinished {
        deployment: MTLS.into(),
        status: RunStatus::Waiting,
    });
    r
}

/// Accepted: the four mTLS checks from the consumer's instance pass.
fn mtls_tested() -> Run {
    let mut r = connection_asked(CONSUMER);
    r.at(400).key(KeyCode::Char('a'));
    r.at(410).done("accept-connection", 18.0);
    r.step("test", Role::Consumer);
    let url = format!("https://{MTLS}.xwizard.test/widgets");
    let request = |what: &str| format!("GET {url} {what}");
    let handshake = "the load balancer ends the TLS handshake (no HTTP answer)";
    for (name, what, status, expected, body) in [
        (
            "with the client certificate and the API key",
            "--cert <signed by the deployment's CA> -H 'Authorization: <API key>'",
            Some(200),
            r#"200 and {"id":"1","value":"4.99"}"#,
            r#"{"id":"1","value":"4.99"}"#,
        ),
        (
            "without a client certificate",
            "no --cert -H 'Authorization: <API key>'",
            None,
            handshake,
            "curl exit 56: OpenSSL SSL_read: tlsv13 alert certificate required",
        ),
        (
            "with a certificate from another CA",
            "--cert <signed by another CA> -H 'Authorization: <API key>'",
            None,
            handshake,
            "curl exit 56: OpenSSL SSL_read: tlsv1 alert unknown ca",
        ),
        (
            "without the API key",
            "--cert <signed by the deployment's CA>",
            Some(401),
            "401 or 403 from the API's authorizer",
            r#"{"message": "Unauthorized"}"#,
        ),
    ] {
        r.send(Event::Check {
            step: "test".into(),
            check: CheckView {
                name: name.into(),
                request: request(what),
                expected: expected.into(),
                status,
                body: body.into(),
                latency_ms: 38,
                passed: true,
                attempts: 1,
            },
        });
    }
    r.at(440).done("test", 29.5);
    r.send(Event::RunFinished {
        deployment: MTLS.into(),
        status: RunStatus::Deployed,
    });
    r
}

/// The parameters screen of Pattern 2, the domain given as `xwizard sandbox` gives it, the
/// certificate authority focused.
fn mtls_parameters() -> Run {
    let mut r = verified_profiles_of('2');
    r.model
        .settings
        .insert("domain".into(), "xwizard.test".into());
    r.key(KeyCode::Char('c'));
    assert_eq!(r.model.screen, Screen::Parameters);
    for _ in 0..4 {
        r.key(KeyCode::Tab);
    }
    r
}

/// Pattern 2's screens at the smallest supported terminal, the usual one and a large one:
/// its pattern, its settings, the cost of a Private CA confirmed, the connection request
/// (the consumer's, and a stranger's), a run left waiting, and the mTLS checks.
#[test]
fn pattern_2_screens_at_60x15_80x24_and_120x40() {
    let mut pattern = Run::new();
    pattern.key(KeyCode::Char('n')).key(KeyCode::Char('2'));
    let mut cost = mtls_parameters();
    cost.key(KeyCode::Right).key(KeyCode::Tab);
    assert!(cost.model.params.confirming.is_some());
    let screens = [
        ("pattern2", pattern, "2. Cross-account private API via mTLS"),
        (
            "parameters_pattern2",
            mtls_parameters(),
            "Which certificate authority",
        ),
        ("cost_confirm", cost, "$400"),
        (
            "connection",
            connection_asked(CONSUMER),
            "vpce-0123456789abcdef0",
        ),
        (
            "connection_stranger",
            connection_asked("333333333333"),
            "! not the consumer",
        ),
        ("waiting", left_waiting(), "xwizard resume mtls-demo"),
        ("tests_mtls", mtls_tested(), "all 4 checks passed"),
    ];
    for (name, r, must_show) in screens {
        for (w, h) in [(60, 15), (80, 24), (120, 40)] {
            let screen = draw(&r.model, w, h);
            assert!(
                screen.contains(must_show),
                "{name} at {w}x{h} lost '{must_show}':\n{screen}"
            );
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
        }
    }
}

#[test]
fn the_help_of_the_connection_screen_names_its_three_answers() {
    let mut r = connection_asked(CONSUMER);
    r.key(KeyCode::Char('?'));
    let screen = draw(&r.model, 80, 24);
    for answer in ["a       accept", "r       reject", "l Esc   later"] {
        assert!(screen.contains(answer), "{answer}:\n{screen}");
    }
    assert!(
        screen.contains("a rejected endpoint cannot ask again"),
        "{screen}"
    );
}

#[test]
fn connection_reject_confirm() {
    let mut r = connection_asked("333333333333");
    r.key(KeyCode::Char('r'));
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}
