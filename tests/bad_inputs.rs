//! Every row of the README's "When the input is wrong" table, run as it stands: the command
//! must end with the exit status the row gives, say the row's message on stderr, not panic,
//! and leave nothing behind (no lock file for a name that is not there, nothing outside the
//! state directory).

use std::path::Path;
use std::process::{Command, Stdio};

/// The table's rows: (command line after `xwizard`, message, exit status).
fn rows() -> Vec<(String, String, i32)> {
    let readme = include_str!("../README.md");
    let begin = readme
        .find("<!-- bad-inputs: begin -->")
        .expect("the README's table of bad inputs");
    let end = readme.find("<!-- bad-inputs: end -->").expect("its end");
    readme[begin..end]
        .lines()
        .filter(|l| l.starts_with("| `xwizard "))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            assert_eq!(cells.len(), 3, "a row of three cells: {line}");
            let code = |cell: &str| {
                cell.trim()
                    .trim_start_matches('`')
                    .trim_end_matches('`')
                    .trim()
                    .to_string()
            };
            let command = code(cells[0]);
            let command = command
                .strip_prefix("xwizard ")
                .expect("a row starts with xwizard")
                .to_string();
            let status = cells[2].trim().parse().expect("an exit status");
            (command, code(cells[1]), status)
        })
        .collect()
}

const RECORD: &str = r#"schema_version = 1
name = "NAME"
pattern = "vpc-endpoint"
region = "us-east-1"
created_at = 1
updated_at = 2

[producer]
profile = "sandbox-producer"
account_id = "111111111111"
arn = "arn:aws:iam::111111111111:user/p"

[consumer]
profile = "sandbox-consumer"
account_id = "222222222222"
arn = "arn:aws:iam::222222222222:user/c"
"#;

/// The files the rows name, in `dir`; the state directory is `dir/state`.
fn fixtures(dir: &Path) {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "answers.toml",
        "pattern = \"vpc-endpoint\"\nregion = \"us-east-1\"\nproducer_profile = \"nobody-producer\"\n\
         consumer_profile = \"nobody-consumer\"\nname = \"fine-name\"\n",
    );
    write("misspelt.toml", "pattren = \"vpc-endpoint\"\n");
    write("garbage.pem", "this is not a certificate\n");
    // A CA, and a client certificate it signed: a leaf is no CA to bring.
    let ca = xwizard::ca::LocalCa::new("bad-inputs CA", 30).unwrap();
    let (leaf_key, csr) = xwizard::ca::client_key_and_csr("bad-inputs leaf").unwrap();
    write("ca.pem", ca.cert_pem());
    write("leaf.pem", &ca.sign_client_csr(&csr, 30).unwrap());
    write("leaf.key", &leaf_key);
    write("a-file", "just a file\n");
    let records = "state/deployments";
    write(
        &format!("{records}/corrupt.toml"),
        "schema_version = 1\nname = [[[\n",
    );
    write(&format!("{records}/empty.toml"), "");
    write(
        &format!("{records}/future.toml"),
        &RECORD
            .replace("NAME", "future")
            .replace("schema_version = 1", "schema_version = 99"),
    );
    write(
        &format!("{records}/renamed.toml"),
        &RECORD.replace("NAME", "original"),
    );
    let sandbox = dir.join("state/sandbox/aws");
    write(
        &format!("{records}/gone-sandbox.toml"),
        &format!(
            "{}\n[steps.consumer-vpc]\nstatus = \"done\"\n",
            RECORD.replace("NAME", "gone-sandbox").replace(
                "updated_at = 2\n",
                &format!(
                    "updated_at = 2\nprofile_files = [\"{}\", \"{}\"]\n",
                    sandbox.join("config").display(),
                    sandbox.join("credentials").display()
                )
            ),
        ),
    );
    write(
        &format!("{records}/old-run.toml"),
        &format!(
            "{}\n[steps.consumer-vpc]\nstatus = \"destroyed\"\n",
            RECORD.replace("NAME", "old-run")
        ),
    );
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_bad_input_in_the_readme_gets_its_message_and_changes_nothing() {
    let rows = rows();
    assert!(rows.len() >= 40, "the table has {} rows", rows.len());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("work");
    fixtures(&root);
    let before = files_under(&root);
    let mut failures = Vec::new();
    for (command, message, status) in &rows {
        let out = Command::new(env!("CARGO_BIN_EXE_xwizard"))
            .args(command.split_whitespace())
            .current_dir(&root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &root)
            .env("XWIZARD_STATE_DIR", root.join("state"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ok = out.status.code() == Some(*status)
            && stderr.contains(message.as_str())
            && !stderr.contains("panicked");
        if !ok {
            failures.push(format!(
                "xwizard {command}\n  wanted exit {status} and {message:?}\n  got exit {:?}: {stderr}",
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Nothing was made or moved by a refused command, and nothing locked for a name that
    // has no record (an existing record's lock file is how its runs exclude each other).
    let after: Vec<String> = files_under(&root)
        .into_iter()
        .filter(|f| {
            let lock_of = f
                .strip_prefix("state/deployments/.")
                .and_then(|rest| rest.strip_suffix(".lock"));
            lock_of.is_none_or(|name| !before.contains(&format!("state/deployments/{name}.toml")))
        })
        .collect();
    assert_eq!(after, before);
    assert!(!dir.path().join("elsewhere").exists());
}

/// `xwizard ARGS` in `root` (the fixtures' directory), with stdin from nowhere.
fn xwizard_in(root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.args(args)
        .current_dir(root)
        .env("HOME", root)
        .env("XWIZARD_STATE_DIR", root.join("state"))
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly_after_the_work_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    fixtures(&root);
    for args in [
        &["list"][..],
        &["templates", "--out", "written"],
        &["status", "old-run"],
    ] {
        // A pipe whose reader is gone before anything is written: `xwizard list | head -0`.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = xwizard_in(&root, args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} said: {stderr}");
    }
    // Every template was written although nobody read the list of them.
    for (path, body) in xwizard::plan::templates() {
        let written = std::fs::read_to_string(root.join("written").join(path)).unwrap();
        assert_eq!(written, body, "{path}");
    }
}

#[test]
fn list_shows_unreadable_records_with_why_and_forget_frees_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    fixtures(&root);
    let out = xwizard_in(&root, &["list"]).output().unwrap();
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    for (record, why) in [
        ("corrupt", "corrupt.toml is not a deployment record"),
        ("empty", "empty.toml is empty"),
        ("future", "written by a newer xwizard"),
        ("renamed", "names deployment 'original'"),
    ] {
        assert!(
            list.lines()
                .any(|l| l.starts_with("unreadable: ") && l.contains(why)),
            "{record} not listed with why:\n{list}"
        );
    }
    assert!(list.contains("old-run "), "{list}");

    // The same for programs: one JSON object a line, and a record as one object.
    let out = xwizard_in(&root, &["list", "--json"]).output().unwrap();
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let unreadable = rows.iter().filter(|r| r["type"] == "unreadable").count();
    assert_eq!(unreadable, 4, "{rows:#?}");
    assert!(rows.iter().any(|r| r["type"] == "deployment"
        && r["name"] == "old-run"
        && r["status"] == "destroyed"
        && r["pattern"] == "vpc-endpoint"));
    let out = xwizard_in(&root, &["status", "old-run", "--json"])
        .output()
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            &record["name"],
            &record["status"],
            &record["producer"]["account_id"]
        ),
        (
            &"old-run".into(),
            &"destroyed".into(),
            &"111111111111".into()
        )
    );

    // A destroyed deployment is forgotten; its name is free again (the next `new` gets as far
    // as the profiles).
    let forgot = xwizard_in(&root, &["forget", "old-run"]).output().unwrap();
    assert!(forgot.status.success(), "{forgot:?}");
    assert!(!root.join("state/deployments/old-run.toml").exists());
    assert!(!root.join("state/deployments/.old-run.lock").exists());
    let again = xwizard_in(
        &root,
        &[
            "new",
            "--yes",
            "--preset",
            "answers.toml",
            "--name",
            "old-run",
        ],
    )
    .output()
    .unwrap();
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("is not in your AWS config"),
        "{again:?}"
    );

    // One whose accounts cannot be reached is forgotten only when forced, saying what may be
    // left; so is an unreadable one.
    for name in ["gone-sandbox", "corrupt"] {
        let forced = xwizard_in(&root, &["forget", name, "--force"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&forced.stderr);
        assert!(forced.status.success(), "{said}");
        assert!(said.contains(&format!("Forgot {name}")), "{said}");
        assert!(!root.join(format!("state/deployments/{name}.toml")).exists());
    }
    let said = String::from_utf8_lossy(
        &xwizard_in(&root, &["forget", "gone-sandbox", "--force"])
            .output()
            .unwrap()
            .stderr,
    )
    .to_string();
    assert!(
        said.contains("no deployment named 'gone-sandbox'"),
        "{said}"
    );
}
