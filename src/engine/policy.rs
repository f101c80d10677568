//! IAM policy documents compared by meaning, not by text: AWS hands a stored policy back in its
//! own spelling — `"*"` as `{"AWS": "*"}`, a single value as a one-element list, statements and
//! values in another order — so a read-back must not demand the bytes it sent.

use serde_json::{Map, Value};

/// Whether two policy documents grant the same thing.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

fn normalize(policy: &Value) -> Value {
    let mut out = Map::new();
    let version = policy
        .get("Version")
        .cloned()
        // AWS's default when a document names none.
        .unwrap_or_else(|| Value::from("2008-10-17"));
    out.insert("Version".into(), version);
    let mut statements: Vec<Value> = match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().map(statement).collect(),
        Some(one) => vec![statement(one)],
        None => Vec::new(),
    };
    statements.sort_by_key(Value::to_string);
    out.insert("Statement".into(), Value::Array(statements));
    Value::Object(out)
}

fn statement(s: &Value) -> Value {
    let Value::Object(fields) = s else {
        return s.clone();
    };
    let mut out = Map::new();
    for (key, value) in fields {
        let normal = match key.as_str() {
            // A statement id names, it grants nothing.
            "Sid" => continue,
            "Principal" | "NotPrincipal" => principal(value),
            "Action" | "NotAction" | "Resource" | "NotResource" => sorted_list(value),
            "Condition" => condition(value),
            _ => value.clone(),
        };
        out.insert(key.clone(), normal);
    }
    Value::Object(out)
}

fn principal(value: &Value) -> Value {
    match value {
        Value::String(s) if s == "*" => {
            Value::Object(Map::from_iter([("AWS".to_string(), sorted_list(value))]))
        }
        Value::Object(kinds) => Value::Object(
            kinds
                .iter()
                .map(|(kind, who)| (kind.clone(), sorted_list(who)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn condition(value: &Value) -> Value {
    let Value::Object(operators) = value else {
        return value.clone();
    };
    Value::Object(
        operators
            .iter()
            .map(|(op, keys)| {
                let keys = match keys {
                    Value::Object(k) => Value::Object(
                        k.iter()
                            .map(|(key, v)| (key.clone(), sorted_list(v)))
                            .collect(),
                    ),
                    other => other.clone(),
                };
                (op.clone(), keys)
            })
            .collect(),
    )
}

fn sorted_list(value: &Value) -> Value {
    let mut items: Vec<Value> = match value {
        Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    };
    items.sort_by_key(Value::to_string);
    items.dedup();
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sent() -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:us-east-1:111111111111:abc123/*"
            }]
        })
    }

    #[test]
    fn aws_spellings_of_the_same_policy_are_equivalent() {
        let stored = json!({
            "Statement": {
                "Resource": ["arn:aws:execute-api:us-east-1:111111111111:abc123/*"],
                "Action": ["execute-api:Invoke"],
                "Principal": {"AWS": ["*"]},
                "Effect": "Allow",
                "Sid": "added-by-aws"
            },
            "Version": "2012-10-17"
        });
        assert!(equivalent(&sent(), &stored));
    }

    #[test]
    fn a_different_grant_is_not() {
        for changed in [
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                "Action": "*", "Resource": "*"}]}),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:us-east-1:111111111111:other/*"}]}),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:us-east-1:111111111111:abc123/*"}]}),
            json!({"Version": "2008-10-17", "Statement": []}),
        ] {
            assert!(!equivalent(&sent(), &changed), "{changed}");
        }
    }

    #[test]
    fn statement_and_value_order_do_not_matter() {
        let a = json!({"Statement": [
            {"Effect": "Allow", "Action": ["b", "a"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-2", "vpce-1"]}}},
            {"Effect": "Deny", "Action": "c", "Resource": "*"}
        ]});
        let b = json!({"Statement": [
            {"Effect": "Deny", "Action": ["c"], "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["a", "b"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}}}
        ]});
        assert!(equivalent(&a, &b));
    }
}
