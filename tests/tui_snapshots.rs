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
use xwizard::engine::{ChangeView, CheckView, Event, Question};
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
        let title = Pattern::VpcEndpoint
            .steps()
            .into_iter()
            .find(|s| s.id == step)
            .map(|s| s.title.to_string())
            .unwrap_or_default();
        self.send(Event::StepStarted {
            step: step.into(),
            title,
            role,
            account_id: account_of(role).into(),
        })
    }

    fn done(&mut self, step: &str, seconds: f64) -> &mut Self {
        self.send(Event::StepDone {
            step: step.into(),
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

    fn finished(&mut self, status: &str) -> &mut Self {
        self.send(Event::RunFinished {
            deployment: NAME.into(),
            status: status.into(),
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
    r.finished("failed");
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
    r.at(240).done("test", 2.4);
    r.finished(if one_fails { "failed" } else { "deployed" });
    r
}

fn destroy_question(r: &mut Run) {
    update(
        &mut r.model,
        Message::Ask(Question::Destroy {
            deployment: NAME.into(),
            stacks: vec![
                (format!("xw-{NAME}-consumer-vpc"), CONSUMER.into()),
                (format!("xw-{NAME}-producer"), PRODUCER.into()),
                (format!("xw-{NAME}-consumer-api"), CONSUMER.into()),
            ],
        }),
    );
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
        steps,
    }
}

fn profiles_screen() -> Run {
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
    r.key(KeyCode::Char('n')).key(KeyCode::Enter);
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
    let mut r = profiles_screen();
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
            .map(|(d, age)| Deployment {
                created_at: LISTED_AT - age,
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
    });
    r.stack_status(step, "DELETE_IN_PROGRESS");
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
    r.stack_status("consumer-api", "DELETE_COMPLETE");
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn cleanup_with_leftovers() {
    let mut r = destroying();
    deleting(&mut r, "producer", Role::Producer);
    r.stack_status("producer", "DELETE_COMPLETE");
    deleting(&mut r, "consumer-api", Role::Consumer);
    r.stack_status("consumer-api", "DELETE_COMPLETE");
    deleting(&mut r, "consumer-vpc", Role::Consumer);
    r.send(Event::Info {
        step: "cleanup".into(),
        message: format!("still there: stack xw-{NAME}-consumer-vpc (DELETE_FAILED)"),
    });
    r.send(Event::Info {
        step: "cleanup".into(),
        message: format!(
            "still there: vpc-0f00ba4 (xwizard:deployment={NAME}) in account {CONSUMER}"
        ),
    });
    r.send(Event::StepFailed {
        step: "cleanup".into(),
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
    r.finished("cleanup incomplete");
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
        r.stack_status(step, "DELETE_COMPLETE");
    }
    r
}

#[test]
fn cleanup_done() {
    let mut r = every_stack_deleted();
    r.send(Event::Info {
        step: "cleanup".into(),
        message: "nothing of this deployment is left in either account".into(),
    });
    r.finished("destroyed");
    insta::assert_snapshot!(draw(&r.model, 80, 24));
}

#[test]
fn quit_after_a_destroy_offers_forget() {
    let mut r = every_stack_deleted();
    r.finished("destroyed");
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
    for message in [
        format!(
            "kept on purpose: arn:aws:iam::{PRODUCER}:role/xw-{NAME}-producer-ApiGatewayCloudW-Q7 (us-east-1), {why}"
        ),
        format!(
            "kept on purpose: arn:aws:iam::{CONSUMER}:role/xw-{NAME}-consumer-api-ApiGatewayCl-X1 (us-east-1), {why}"
        ),
        "nothing else of this deployment is left in either account".to_string(),
    ] {
        r.send(Event::Info {
            step: "cleanup".into(),
            message,
        });
    }
    r.finished("destroyed");
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
