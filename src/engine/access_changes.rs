//! What an access change grants or takes away, in rows a reviewer reads as `cdk diff` shows
//! them: one per IAM statement, managed policy, security-group rule or resource-policy grant,
//! made from the property values AWS resolved for the change set (its before and after
//! contexts). A Modify shows only what is added and what is removed.

use serde::Serialize;
use serde_json::Value;

use crate::aws::stacks::ChangeDetail;

/// Whether a row is granted by the change or taken away by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowChange {
    Added,
    Removed,
}

/// What a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    /// Who may assume a role (its trust policy).
    Trust,
    /// A statement of an identity policy (inline or standalone).
    Policy,
    /// An AWS or customer managed policy attached, or a policy attached to an identity.
    ManagedPolicy,
    Ingress,
    Egress,
    /// A statement of a policy on the resource itself (API, endpoint, secret, key, bucket).
    ResourcePolicy,
    /// A Lambda permission or an endpoint service's allowed principal.
    Permission,
}

/// One thing an access change adds or removes, e.g. `Allow sts:AssumeRole ← lambda.amazonaws.com`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRow {
    pub change: RowChange,
    pub kind: AccessKind,
    pub text: String,
}

impl AccessRow {
    /// `+ text` or `- text`.
    pub fn line(&self) -> String {
        let sign = match self.change {
            RowChange::Added => '+',
            RowChange::Removed => '-',
        };
        format!("{sign} {}", self.text)
    }
}

/// The rows of one change: for an Add what the new resource grants, for a Remove what goes
/// with it, for a Modify what differs between before and after. Empty when AWS gave no
/// property values or the type holds nothing this reads.
pub fn access_rows(
    resource_type: &str,
    before_context: Option<&str>,
    after_context: Option<&str>,
) -> Vec<AccessRow> {
    let before = facts(resource_type, &properties(before_context));
    let after = facts(resource_type, &properties(after_context));
    let mut rows: Vec<AccessRow> = before
        .iter()
        .filter(|f| !after.contains(f))
        .map(|(kind, text)| AccessRow {
            change: RowChange::Removed,
            kind: *kind,
            text: text.clone(),
        })
        .collect();
    rows.extend(
        after
            .iter()
            .filter(|f| !before.contains(f))
            .map(|(kind, text)| AccessRow {
                change: RowChange::Added,
                kind: *kind,
                text: text.clone(),
            }),
    );
    // Grouped by kind (trust before policies, …), removals before additions within a kind.
    rows.sort_by_key(|r| r.kind);
    rows.dedup();
    rows
}

/// The property changes that make CloudFormation replace the resource, e.g. `CidrBlock`, or
/// `VpcId (from Vpc)` when another resource's new value is the cause. Empty when none says so.
pub fn replacement_causes(details: &[ChangeDetail]) -> Vec<String> {
    let mut causes: Vec<String> = Vec::new();
    for d in details {
        let recreates = matches!(
            d.requires_recreation.as_deref(),
            Some("Always" | "Conditionally")
        );
        let Some(name) = d.name.as_deref().filter(|_| recreates) else {
            continue;
        };
        let mut cause = name.to_string();
        if d.requires_recreation.as_deref() == Some("Conditionally") {
            cause.push_str(" (maybe)");
        }
        match (d.change_source.as_deref(), d.causing_entity.as_deref()) {
            (Some("DirectModification") | None, _) | (_, None) => {}
            (Some(_), Some(entity)) => cause.push_str(&format!(" (from {entity})")),
        }
        if !causes.contains(&cause) {
            causes.push(cause);
        }
    }
    causes
}

/// The `Properties` of a before or after context (AWS's JSON document); `Null` when absent
/// or not JSON.
fn properties(context: Option<&str>) -> Value {
    let Some(doc) = context.and_then(|c| serde_json::from_str::<Value>(c).ok()) else {
        return Value::Null;
    };
    match doc {
        Value::Object(mut map) if map.contains_key("Properties") => {
            map.remove("Properties").unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// Every grant the resource's properties hold, as (kind, text).
fn facts(resource_type: &str, props: &Value) -> Vec<(AccessKind, String)> {
    let mut out = Vec::new();
    if !props.is_object() {
        return out;
    }
    let policy = |out: &mut Vec<(AccessKind, String)>, doc: &Value, kind: AccessKind| {
        for st in statements(doc) {
            out.push((kind, statement(&st, kind != AccessKind::Policy)));
        }
    };
    // What a role, a user and a group hold alike: inline policies and managed ones.
    let held = |out: &mut Vec<(AccessKind, String)>| {
        for p in list(&props["Policies"]) {
            policy(out, &p["PolicyDocument"], AccessKind::Policy);
        }
        for arn in list(&props["ManagedPolicyArns"]) {
            out.push((
                AccessKind::ManagedPolicy,
                format!("managed {}", policy_name(&arn)),
            ));
        }
    };
    match resource_type {
        "AWS::IAM::Role" => {
            policy(
                &mut out,
                &props["AssumeRolePolicyDocument"],
                AccessKind::Trust,
            );
            held(&mut out);
            if !props["PermissionsBoundary"].is_null() {
                out.push((
                    AccessKind::ManagedPolicy,
                    format!("boundary {}", policy_name(&props["PermissionsBoundary"])),
                ));
            }
        }
        "AWS::IAM::User" | "AWS::IAM::Group" => held(&mut out),
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::RolePolicy" => {
            policy(&mut out, &props["PolicyDocument"], AccessKind::Policy);
            for (key, what) in [("Roles", "role"), ("Users", "user"), ("Groups", "group")] {
                for who in list(&props[key]) {
                    out.push((
                        AccessKind::ManagedPolicy,
                        format!("attached to {what} {}", plain(&who)),
                    ));
                }
            }
            if !props["RoleName"].is_null() {
                out.push((
                    AccessKind::ManagedPolicy,
                    format!("attached to role {}", plain(&props["RoleName"])),
                ));
            }
        }
        "AWS::EC2::SecurityGroup" => {
            for r in list(&props["SecurityGroupIngress"]) {
                out.push((AccessKind::Ingress, rule("ingress", &r)));
            }
            for r in list(&props["SecurityGroupEgress"]) {
                out.push((AccessKind::Egress, rule("egress", &r)));
            }
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            let (kind, direction) = if resource_type.ends_with("Ingress") {
                (AccessKind::Ingress, "ingress")
            } else {
                (AccessKind::Egress, "egress")
            };
            let mut text = rule(direction, props);
            let group = &props["GroupId"];
            if !group.is_null() {
                text.push_str(&format!(" on {}", plain(group)));
            }
            out.push((kind, text));
        }
        "AWS::ApiGateway::RestApi" => {
            policy(&mut out, &props["Policy"], AccessKind::ResourcePolicy)
        }
        "AWS::EC2::VPCEndpoint" | "AWS::S3::BucketPolicy" => policy(
            &mut out,
            &props["PolicyDocument"],
            AccessKind::ResourcePolicy,
        ),
        "AWS::SecretsManager::ResourcePolicy" => policy(
            &mut out,
            &props["ResourcePolicy"],
            AccessKind::ResourcePolicy,
        ),
        "AWS::KMS::Key" => policy(&mut out, &props["KeyPolicy"], AccessKind::ResourcePolicy),
        "AWS::Lambda::Permission" => {
            let mut text = format!(
                "Allow {} ← {} on {}",
                plain(&props["Action"]),
                plain(&props["Principal"]),
                plain(&props["FunctionName"])
            );
            let conditions: Vec<String> = ["SourceArn", "SourceAccount", "PrincipalOrgID"]
                .iter()
                .filter(|k| !props[**k].is_null())
                .map(|k| format!("{k} = {}", plain(&props[*k])))
                .collect();
            if !conditions.is_empty() {
                text.push_str(&format!(" if {}", conditions.join(" and ")));
            }
            out.push((AccessKind::Permission, text));
        }
        "AWS::EC2::VPCEndpointServicePermissions" => {
            for p in list(&props["AllowedPrincipals"]) {
                out.push((
                    AccessKind::Permission,
                    format!("Allow endpoint connections ← {}", plain(&p)),
                ));
            }
        }
        _ => {}
    }
    out
}

/// The statements of a policy document, given as an object or as its JSON text.
fn statements(doc: &Value) -> Vec<Value> {
    let doc = match doc {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(parsed) => parsed,
            Err(_) => return Vec::new(),
        },
        other => other.clone(),
    };
    list(&doc["Statement"])
        .into_iter()
        .filter(Value::is_object)
        .collect()
}

/// `Allow s3:GetObject ← * on arn:… if aws:SourceVpce = vpce-…`; the principal only for
/// trust and resource policies (an identity policy's principal is its identity).
fn statement(st: &Value, with_principal: bool) -> String {
    let mut text = match &st["Effect"] {
        Value::Null => "Allow".to_string(),
        effect => plain(effect),
    };
    match (&st["Action"], &st["NotAction"]) {
        (Value::Null, Value::Null) => {}
        (Value::Null, not) => text.push_str(&format!(" any action but {}", joined(not))),
        (actions, _) => text.push_str(&format!(" {}", joined(actions))),
    }
    if with_principal {
        match (&st["Principal"], &st["NotPrincipal"]) {
            (Value::Null, Value::Null) => {}
            (Value::Null, not) => text.push_str(&format!(" ← anyone but {}", principal(not))),
            (who, _) => text.push_str(&format!(" ← {}", principal(who))),
        }
    }
    match (&st["Resource"], &st["NotResource"]) {
        (Value::Null, Value::Null) => {}
        (Value::Null, not) => text.push_str(&format!(" on anything but {}", joined(not))),
        (on, _) => text.push_str(&format!(" on {}", joined(on))),
    }
    let conditions = conditions(&st["Condition"]);
    if !conditions.is_empty() {
        text.push_str(&format!(" if {}", conditions.join(" and ")));
    }
    text
}

/// `*`, or the principals' values whatever their kind (service, account, role).
fn principal(p: &Value) -> String {
    match p {
        Value::Object(map) => map
            .values()
            .flat_map(list)
            .map(|v| plain(&v))
            .collect::<Vec<_>>()
            .join(", "),
        other => joined(other),
    }
}

/// Each condition as `key = value`, `key ≠ value`, `key like value`, …
fn conditions(c: &Value) -> Vec<String> {
    let Value::Object(operators) = c else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (operator, tests) in operators {
        let (base, if_exists) = match operator.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (operator.as_str(), false),
        };
        let (set, base) = match base.split_once(':') {
            Some((set, rest)) => (Some(set), rest),
            None => (None, base),
        };
        let symbol = match base {
            "StringEquals"
            | "StringEqualsIgnoreCase"
            | "ArnEquals"
            | "NumericEquals"
            | "DateEquals"
            | "Bool"
            | "BinaryEquals" => "=".to_string(),
            "StringNotEquals"
            | "StringNotEqualsIgnoreCase"
            | "ArnNotEquals"
            | "NumericNotEquals"
            | "DateNotEquals" => "≠".to_string(),
            "StringLike" | "ArnLike" => "like".to_string(),
            "StringNotLike" | "ArnNotLike" => "not like".to_string(),
            "IpAddress" => "in".to_string(),
            "NotIpAddress" => "not in".to_string(),
            "NumericLessThan" | "DateLessThan" => "<".to_string(),
            "NumericLessThanEquals" | "DateLessThanEquals" => "≤".to_string(),
            "NumericGreaterThan" | "DateGreaterThan" => ">".to_string(),
            "NumericGreaterThanEquals" | "DateGreaterThanEquals" => "≥".to_string(),
            "Null" => "is null:".to_string(),
            other => other.to_string(),
        };
        let Value::Object(tests) = tests else {
            out.push(format!("{operator} {}", plain(tests)));
            continue;
        };
        for (key, value) in tests {
            let mut test = format!("{key} {symbol} {}", joined(value));
            if let Some(set) = set {
                test = format!("{test} ({set})");
            }
            if if_exists {
                test.push_str(" (if present)");
            }
            out.push(test);
        }
    }
    out
}

/// A security-group rule: `ingress tcp 443 from 10.0.0.0/16`, `egress all traffic to sg-…`.
fn rule(direction: &str, r: &Value) -> String {
    // The rule a group keeps to allow no egress at all (the one CDK writes for
    // `allowAllOutbound: false`): ICMP type 252 code 86 to the broadcast address, which no
    // packet matches.
    if plain(&r["IpProtocol"]) == "icmp"
        && plain(&r["FromPort"]) == "252"
        && plain(&r["ToPort"]) == "86"
        && plain(&r["CidrIp"]) == "255.255.255.255/32"
    {
        return format!("{direction}: none (a rule no packet matches)");
    }
    let protocol = match plain(&r["IpProtocol"]).to_ascii_lowercase().as_str() {
        "-1" | "all" => "all traffic".to_string(),
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        "1" => "icmp".to_string(),
        "58" => "icmpv6".to_string(),
        "" => "(no protocol)".to_string(),
        other => other.to_string(),
    };
    let mut text = format!("{direction} {protocol}");
    if protocol.starts_with("icmp") {
        // For ICMP the "ports" are the ICMP type and code, -1 meaning any.
        let (kind, code) = (plain(&r["FromPort"]), plain(&r["ToPort"]));
        if !kind.is_empty() && kind != "-1" {
            text.push_str(&format!(" type {kind}"));
            if !code.is_empty() && code != "-1" {
                text.push_str(&format!(" code {code}"));
            }
        }
    } else if protocol != "all traffic" {
        let from = plain(&r["FromPort"]);
        let to = plain(&r["ToPort"]);
        match (from.as_str(), to.as_str()) {
            ("", "") => {}
            ("-1", _) | (_, "-1") if protocol == "tcp" || protocol == "udp" => {
                text.push_str(" all ports")
            }
            ("-1", _) => {}
            (f, t) if f == t || t.is_empty() => text.push_str(&format!(" {f}")),
            ("", t) => text.push_str(&format!(" {t}")),
            (f, t) => text.push_str(&format!(" {f}-{t}")),
        }
    }
    let (preposition, peers): (&str, &[&str]) = if direction == "ingress" {
        (
            "from",
            &[
                "CidrIp",
                "CidrIpv6",
                "SourceSecurityGroupId",
                "SourceSecurityGroupName",
                "SourcePrefixListId",
            ],
        )
    } else {
        (
            "to",
            &[
                "CidrIp",
                "CidrIpv6",
                "DestinationSecurityGroupId",
                "DestinationPrefixListId",
            ],
        )
    };
    let peer: Vec<String> = peers
        .iter()
        .filter(|k| !r[**k].is_null())
        .map(|k| plain(&r[*k]))
        .collect();
    if !peer.is_empty() {
        text.push_str(&format!(" {preposition} {}", peer.join(", ")));
    }
    text
}

/// `AWSLambdaVPCAccessExecutionRole` of `arn:aws:iam::aws:policy/service-role/AWSLambda…`.
fn policy_name(arn: &Value) -> String {
    let text = plain(arn);
    if text.starts_with("arn:")
        && let Some((_, name)) = text.rsplit_once('/')
    {
        return name.to_string();
    }
    text
}

/// A value that may be one item or a list of them, as a list.
fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// The items of a value, each once: two ARNs known only after apply read as one.
fn joined(v: &Value) -> String {
    let mut items: Vec<String> = Vec::new();
    for item in list(v).iter().map(plain) {
        if !items.contains(&item) {
            items.push(item);
        }
    }
    items.join(", ")
}

/// A value as a reviewer reads it. AWS leaves what only the deployment decides (an id not yet
/// made) as a `{{changeSet:KNOWN_AFTER_APPLY}}` placeholder: that reads `(known after apply)`.
fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => unplaceholder(s),
        Value::Array(_) => joined(v),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(_) => v.to_string(),
    }
}

/// Every `{{changeSet:SOME_THING}}` in `s` as `(some thing)`.
fn unplaceholder(s: &str) -> String {
    const OPEN: &str = "{{changeSet:";
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let words = after[..end].replace('_', " ").to_lowercase();
        out.push_str(&format!("({words})"));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn context(props: Value) -> Option<String> {
        Some(json!({ "Properties": props }).to_string())
    }

    fn lines(rows: &[AccessRow]) -> Vec<String> {
        rows.iter().map(AccessRow::line).collect()
    }

    #[test]
    fn a_new_role_shows_its_trust_its_statements_and_managed_policies() {
        let after = context(json!({
            "AssumeRolePolicyDocument": {"Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "read", "PolicyDocument": {"Statement": [{
                "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                "Resource": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:key",
                "Condition": {"StringEquals": {"aws:ResourceAccount": "111111111111"}}}]}}],
            "ManagedPolicyArns": [
                "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"]
        }));
        let rows = access_rows("AWS::IAM::Role", None, after.as_deref());
        assert_eq!(
            lines(&rows),
            [
                "+ Allow sts:AssumeRole ← lambda.amazonaws.com",
                "+ Allow secretsmanager:GetSecretValue on \
                 arn:aws:secretsmanager:eu-west-1:111111111111:secret:key \
                 if aws:ResourceAccount = 111111111111",
                "+ managed AWSLambdaVPCAccessExecutionRole",
            ]
        );
        assert_eq!(rows[0].kind, AccessKind::Trust);
        assert_eq!(rows[2].kind, AccessKind::ManagedPolicy);
    }

    #[test]
    fn a_modified_security_group_shows_only_the_rules_that_change() {
        let before = context(json!({"GroupDescription": "web", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"},
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"}]}));
        let after = context(json!({"GroupDescription": "web", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"},
            {"IpProtocol": "-1", "SourceSecurityGroupId": "sg-0abc"}],
            "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 1024, "ToPort": 65535,
                "DestinationPrefixListId": "pl-123"}]}));
        let rows = access_rows(
            "AWS::EC2::SecurityGroup",
            before.as_deref(),
            after.as_deref(),
        );
        assert_eq!(
            lines(&rows),
            [
                "- ingress tcp 80 from 0.0.0.0/0",
                "+ ingress all traffic from sg-0abc",
                "+ egress tcp 1024-65535 to pl-123",
            ]
        );
    }

    #[test]
    fn icmp_rules_name_type_and_code() {
        // A group that must allow no egress at all keeps one rule no packet matches.
        let after = context(json!({"SecurityGroupEgress": [
            {"IpProtocol": "icmp", "FromPort": 252, "ToPort": 86, "CidrIp": "255.255.255.255/32"},
            {"IpProtocol": "1", "FromPort": -1, "ToPort": -1, "CidrIp": "10.0.0.0/8"},
            {"IpProtocol": "icmp", "FromPort": 3, "ToPort": 4, "CidrIp": "10.0.0.0/8"}]}));
        let rows = access_rows("AWS::EC2::SecurityGroup", None, after.as_deref());
        assert_eq!(
            lines(&rows),
            [
                "+ egress: none (a rule no packet matches)",
                "+ egress icmp to 10.0.0.0/8",
                "+ egress icmp type 3 code 4 to 10.0.0.0/8",
            ]
        );
    }

    #[test]
    fn a_private_api_policy_names_the_endpoint_it_is_pinned_to() {
        let policy = json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
             "Resource": "execute-api:/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
             "Resource": "execute-api:/*",
             "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123"}}}]});
        // AWS may give a policy property as the object or as its JSON text.
        for given in [policy.clone(), Value::String(policy.to_string())] {
            let after = context(json!({ "Name": "api", "Policy": given }));
            let rows = access_rows("AWS::ApiGateway::RestApi", None, after.as_deref());
            assert_eq!(
                lines(&rows),
                [
                    "+ Allow execute-api:Invoke ← * on execute-api:/*",
                    "+ Deny execute-api:Invoke ← * on execute-api:/* if aws:SourceVpce ≠ vpce-0123",
                ]
            );
        }
    }

    #[test]
    fn values_only_the_deployment_decides_read_plainly() {
        let after = context(json!({
            "FunctionName": "{{changeSet:KNOWN_AFTER_APPLY}}",
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": "arn:aws:execute-api:eu-west-1:1:{{changeSet:KNOWN_AFTER_APPLY}}/*"
        }));
        let bucket = context(json!({"PolicyDocument": {"Statement": [{"Effect": "Deny",
            "Principal": "*", "Action": "s3:*",
            "Resource": ["{{changeSet:KNOWN_AFTER_APPLY}}", "{{changeSet:KNOWN_AFTER_APPLY}}"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}));
        assert_eq!(
            lines(&access_rows(
                "AWS::S3::BucketPolicy",
                None,
                bucket.as_deref()
            )),
            ["+ Deny s3:* ← * on (known after apply) if aws:SecureTransport = false"]
        );
        let rows = access_rows("AWS::Lambda::Permission", None, after.as_deref());
        assert_eq!(
            lines(&rows),
            [
                "+ Allow lambda:InvokeFunction ← apigateway.amazonaws.com on (known after apply) \
              if SourceArn = arn:aws:execute-api:eu-west-1:1:(known after apply)/*"
            ]
        );
    }

    #[test]
    fn a_removed_key_takes_its_policy_with_it() {
        let before = context(json!({"KeyPolicy": {"Statement": [{"Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::222222222222:root"]},
            "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}}]}}));
        let rows = access_rows("AWS::KMS::Key", before.as_deref(), None);
        assert_eq!(
            lines(&rows),
            [
                "- Allow kms:Decrypt, kms:DescribeKey ← arn:aws:iam::222222222222:root on * \
              if kms:ViaService = secretsmanager.eu-west-1.amazonaws.com"
            ]
        );
    }

    #[test]
    fn no_values_no_rows() {
        assert!(access_rows("AWS::IAM::Role", None, None).is_empty());
        assert!(access_rows("AWS::IAM::Role", Some("not json"), Some("[1]")).is_empty());
        let same = context(json!({"KeyPolicy": {"Statement": {"Effect": "Allow"}}}));
        assert!(access_rows("AWS::KMS::Key", same.as_deref(), same.as_deref()).is_empty());
    }

    #[test]
    fn replacement_names_the_properties_that_cause_it() {
        let detail =
            |name: &str, recreation: &str, source: &str, entity: Option<&str>| ChangeDetail {
                attribute: "Properties".into(),
                name: Some(name.into()),
                requires_recreation: Some(recreation.into()),
                change_source: Some(source.into()),
                causing_entity: entity.map(str::to_string),
            };
        let details = [
            detail("CidrBlock", "Always", "DirectModification", None),
            detail("Tags", "Never", "DirectModification", None),
            detail("VpcId", "Always", "ResourceReference", Some("Vpc")),
            detail("CidrBlock", "Always", "DirectModification", None),
            detail(
                "AvailabilityZone",
                "Conditionally",
                "DirectModification",
                None,
            ),
        ];
        assert_eq!(
            replacement_causes(&details),
            ["CidrBlock", "VpcId (from Vpc)", "AvailabilityZone (maybe)"]
        );
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-zA-Z:*{}_/ -]{0,12}".prop_map(Value::String),
            Just(json!("{{changeSet:KNOWN_AFTER_APPLY}}")),
            Just(json!("{{changeSet:")),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let keys = prop_oneof![
                Just("Properties".to_string()),
                Just("Statement".to_string()),
                Just("Effect".to_string()),
                Just("Action".to_string()),
                Just("Principal".to_string()),
                Just("Condition".to_string()),
                Just("StringEquals".to_string()),
                Just("PolicyDocument".to_string()),
                Just("Policies".to_string()),
                Just("AssumeRolePolicyDocument".to_string()),
                Just("SecurityGroupIngress".to_string()),
                Just("IpProtocol".to_string()),
                Just("FromPort".to_string()),
                "[A-Za-z]{1,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(keys, inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics_on_any_json(before in arbitrary_json(), after in arbitrary_json(),
                                    ty in prop_oneof![
                                        Just("AWS::IAM::Role"), Just("AWS::IAM::Policy"),
                                        Just("AWS::EC2::SecurityGroup"),
                                        Just("AWS::EC2::SecurityGroupIngress"),
                                        Just("AWS::ApiGateway::RestApi"), Just("AWS::KMS::Key"),
                                        Just("AWS::Lambda::Permission"),
                                        Just("AWS::EC2::VPCEndpointServicePermissions")]) {
            let b = before.to_string();
            let a = after.to_string();
            let rows = access_rows(ty, Some(&b), Some(&a));
            // Whatever is reported is a change: nothing is both added and removed.
            for r in &rows {
                let twin = rows.iter().any(|o| o.text == r.text && o.kind == r.kind && o.change != r.change);
                prop_assert!(!twin, "{r:?}");
            }
        }
    }
}
