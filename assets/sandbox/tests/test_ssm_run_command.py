"""Run Command on EC2 instances: managed nodes, invocations, and the script really run."""

from __future__ import annotations

import json
import os

import pytest
from botocore.exceptions import ClientError

from conftest import CONSUMER, wait_until

REGION = "us-east-1"
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
# The actions AmazonSSMManagedInstanceCore grants that the agent needs, written inline.
AGENT_ACTIONS = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Resource": "*", "Action": [
        "ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel",
        "ssmmessages:OpenControlChannel", "ec2messages:GetMessages", "ec2messages:SendReply"]}]})


@pytest.fixture
def consumer(fresh):
    return fresh, fresh.client("ec2", "consumer"), fresh.client("iam", "consumer"), \
        fresh.client("ssm", "consumer")


def network(ec2, cidr: str = "10.20.0.0/16", endpoints: bool = True) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "0.0/24"),
                               AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    if endpoints:
        for service in ("ssm", "ssmmessages", "ec2messages"):
            ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.{service}",
                                    VpcEndpointType="Interface", SubnetIds=[subnet],
                                    PrivateDnsEnabled=True)
    return vpc, subnet


def profile(iam, name: str, managed: str | None = CORE, inline: str | None = None) -> str:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    if managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=managed)
    if inline:
        iam.put_role_policy(RoleName=name, PolicyName="agent", PolicyDocument=inline)
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def image(ec2) -> str:
    """A Linux image, as the Amazon Linux 2023 the consumer instance runs."""
    images = ec2.describe_images(Owners=["amazon"])["Images"]
    return next(i["ImageId"] for i in images if i.get("Platform") != "windows")


def launch(ec2, subnet: str, profile_name: str | None) -> str:
    extra = {"IamInstanceProfile": {"Name": profile_name}} if profile_name else {}
    return ec2.run_instances(ImageId=image(ec2), MinCount=1, MaxCount=1, InstanceType="t3.micro",
                             SubnetId=subnet, **extra)["Instances"][0]["InstanceId"]


def nodes(ssm) -> dict[str, str]:
    listed = ssm.describe_instance_information()["InstanceInformationList"]
    return {n["InstanceId"]: n["PingStatus"] for n in listed}


def online(ssm, instance_id: str) -> None:
    wait_until(lambda: nodes(ssm).get(instance_id) == "Online", what=f"{instance_id} Online")


def node(consumer, name: str = "node") -> str:
    """A running instance that is a managed node: role with the core policy, SSM endpoints."""
    _, ec2, iam, ssm = consumer
    _, subnet = network(ec2)
    instance_id = launch(ec2, subnet, profile(iam, name))
    online(ssm, instance_id)
    return instance_id


def send(ssm, instance_id: str, commands: list[str], execution_timeout: str | None = None,
         **extra) -> str:
    parameters = {"commands": commands}
    if execution_timeout:
        parameters["executionTimeout"] = [execution_timeout]
    return ssm.send_command(InstanceIds=[instance_id], DocumentName="AWS-RunShellScript",
                            Parameters=parameters, **extra)["Command"]["CommandId"]


def invocation(ssm, command_id: str, instance_id: str) -> dict | None:
    try:
        return ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
    except ClientError as err:
        if err.response["Error"]["Code"] == "InvocationDoesNotExist":
            return None
        raise


def finished(ssm, command_id: str, instance_id: str) -> dict:
    def done():
        found = invocation(ssm, command_id, instance_id)
        return found if found and found["Status"] not in ("Pending", "InProgress", "Delayed",
                                                          "Cancelling") else None
    return wait_until(done, what=f"command {command_id} finished")


def run(ssm, instance_id: str, commands: list[str], **extra) -> dict:
    return finished(ssm, send(ssm, instance_id, commands, **extra), instance_id)


def test_only_an_instance_with_the_role_and_a_way_to_ssm_becomes_a_managed_node(consumer):
    _, ec2, iam, ssm = consumer
    _, subnet = network(ec2)
    _, isolated = network(ec2, "10.30.0.0/16", endpoints=False)
    managed = launch(ec2, subnet, profile(iam, "core"))
    inline = launch(ec2, subnet, profile(iam, "inline", managed=None, inline=AGENT_ACTIONS))
    no_profile = launch(ec2, subnet, None)
    no_ssm_actions = launch(ec2, subnet, profile(
        iam, "other", managed="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"))
    no_endpoints = launch(ec2, isolated, profile(iam, "isolated"))

    # Launched together: once the qualifying ones are Online, the others would be too.
    online(ssm, managed)
    online(ssm, inline)
    listed = nodes(ssm)
    for instance_id in (no_profile, no_ssm_actions, no_endpoints):
        assert instance_id not in listed
    info = ssm.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [managed]}])["InstanceInformationList"]
    assert [(i["InstanceId"], i["PingStatus"], i["ResourceType"], i["PlatformType"])
            for i in info] == [(managed, "Online", "EC2Instance", "Linux")]

    with pytest.raises(ClientError) as refused:
        send(ssm, no_endpoints, ["true"])
    assert refused.value.response["Error"]["Code"] == "InvalidInstanceId"
    assert refused.value.response["Error"]["Message"] == \
        f"Instances [[{no_endpoints}]] not in a valid state for account {CONSUMER}"

    ec2.stop_instances(InstanceIds=[managed])
    assert nodes(ssm)[managed] == "ConnectionLost"


def test_the_script_runs_on_the_instance_with_its_role_and_environment(consumer):
    sandbox, _, _, ssm = consumer
    instance_id = node(consumer, "caller")
    result = run(ssm, instance_id, [
        "echo hello",
        "aws sts get-caller-identity --query Arn --output text",
        "echo \"$AWS_REGION $AWS_DEFAULT_REGION $AWS_ENDPOINT_URL $AWS_SSM_INSTANCE_ID\"",
        "test \"$(command -v curl)\" = \"$HOME/bin/curl\" && echo curl-wrapped",
        "test \"$(pwd)\" = \"$HOME\" && echo at-home",
        "curl --version >/dev/null && openssl version >/dev/null && echo tools",
    ])
    assert (result["Status"], result["StatusDetails"], result["ResponseCode"]) == ("Success", "Success", 0)
    assert result["StandardOutputContent"].splitlines() == [
        "hello",
        f"arn:aws:sts::{CONSUMER}:assumed-role/caller/{instance_id}",
        f"{REGION} {REGION} {sandbox.endpoint_url} {instance_id}",
        "curl-wrapped",
        "at-home",
        "tools",
    ]
    assert result["StandardErrorContent"] == ""
    assert result["PluginName"] == "aws:runShellScript"


def test_the_instance_disk_persists_between_commands_and_goes_with_the_instance(consumer):
    sandbox, ec2, _, ssm = consumer
    instance_id = node(consumer)
    assert run(ssm, instance_id, ["echo kept > note.txt"])["Status"] == "Success"
    assert run(ssm, instance_id, ["cat note.txt"])["StandardOutputContent"] == "kept\n"

    disk = os.path.join(os.path.dirname(sandbox.info["data_plane"]["ca_file"]), "instances", instance_id)
    assert os.path.isfile(os.path.join(disk, "note.txt"))
    ec2.terminate_instances(InstanceIds=[instance_id])
    wait_until(lambda: not os.path.exists(disk), what="the terminated instance's disk removed")
    assert instance_id not in nodes(ssm)


def test_a_non_zero_exit_is_failed_with_its_response_code(consumer):
    _, _, _, ssm = consumer
    instance_id = node(consumer)
    result = run(ssm, instance_id, ["echo partial", "echo oops >&2", "exit 3"])
    assert (result["Status"], result["StatusDetails"], result["ResponseCode"]) == ("Failed", "Failed", 3)
    assert result["StandardOutputContent"] == "partial\n"
    assert result["StandardErrorContent"] == "oops\nfailed to run commands: exit status 3"


def test_the_execution_timeout_kills_the_script_and_ends_timed_out(consumer):
    _, _, _, ssm = consumer
    instance_id = node(consumer)
    result = run(ssm, instance_id, ["echo started", "sleep 30 & echo $! > sleeper", "wait"],
                 execution_timeout="1")
    assert (result["Status"], result["StatusDetails"], result["ResponseCode"]) == \
        ("TimedOut", "ExecutionTimedOut", 137)
    assert result["StandardOutputContent"] == "started\n"
    # A killed process whose parent is gone may linger as a zombie until init reaps it: dead
    # all the same.
    check = run(ssm, instance_id, [
        'p=$(cat sleeper); if kill -0 "$p" 2>/dev/null && ! grep -q "^State:[[:space:]]*Z" '
        '"/proc/$p/status" 2>/dev/null; then echo alive; else echo gone; fi'])
    assert check["StandardOutputContent"] == "gone\n"


def test_output_is_cut_as_aws_cuts_it(consumer):
    _, _, _, ssm = consumer
    instance_id = node(consumer)
    command_id = send(ssm, instance_id, [
        "head -c 30000 /dev/zero | tr '\\0' a",
        "head -c 9000 /dev/zero | tr '\\0' b >&2",
    ])
    result = finished(ssm, command_id, instance_id)
    out, err = result["StandardOutputContent"], result["StandardErrorContent"]
    assert len(out) == 24000 and out == "a" * 23980 + "--output truncated--"
    assert len(err) == 8000 and err == "b" * 7980 + "--output truncated--"

    listed = ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"]
    plugin = listed[0]["CommandPlugins"][0]
    assert plugin["Name"] == "aws:runShellScript" and plugin["ResponseCode"] == 0
    assert len(plugin["Output"]) == 2500
    assert "---Output truncated---\n----------ERROR-------\n" in plugin["Output"]
    assert plugin["Output"].endswith("---Error truncated----")


def test_an_invocation_is_not_visible_right_after_send_command(consumer):
    sandbox, _, _, ssm = consumer
    instance_id = node(consumer)
    sandbox.control("faults/hold", {"what": "ssm-invocations"})
    command_id = send(ssm, instance_id, ["echo later"])
    with pytest.raises(ClientError) as hidden:
        ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
    assert hidden.value.response["Error"]["Code"] == "InvocationDoesNotExist"
    assert ssm.list_command_invocations(CommandId=command_id)["CommandInvocations"] == []
    listed = ssm.list_commands(CommandId=command_id)["Commands"]
    assert [(c["CommandId"], c["Status"], c["TargetCount"]) for c in listed] == [(command_id, "Pending", 1)]

    sandbox.control("faults/release", {"what": "ssm-invocations"})
    assert finished(ssm, command_id, instance_id)["StandardOutputContent"] == "later\n"
    done = ssm.list_commands(CommandId=command_id)["Commands"][0]
    assert (done["Status"], done["CompletedCount"], done["ErrorCount"]) == ("Success", 1, 0)


def test_cancel_ends_a_running_command_and_at_most_four_run_at_once(consumer):
    _, _, _, ssm = consumer
    instance_id = node(consumer)
    command_ids = [send(ssm, instance_id, ["sleep 60"]) for _ in range(6)]

    def statuses():
        found = [invocation(ssm, c, instance_id) for c in command_ids]
        return [f["Status"] if f else "Invisible" for f in found]

    wait_until(lambda: statuses().count("InProgress") == 4, what="four commands running")
    now = statuses()
    assert sorted(now) == ["InProgress"] * 4 + ["Pending"] * 2
    waiting = [c for c, s in zip(command_ids, now) if s == "Pending"]
    running = [c for c, s in zip(command_ids, now) if s == "InProgress"]
    # The waiting ones first: a cancelled running one frees its slot for the next in line.
    for command_id in waiting + running:
        ssm.cancel_command(CommandId=command_id)
    for command_ids_, code in ((waiting, -1), (running, 137)):
        for command_id in command_ids_:
            result = finished(ssm, command_id, instance_id)
            assert (result["Status"], result["StatusDetails"], result["ResponseCode"]) == \
                ("Cancelled", "Cancelled", code)


def test_an_instance_made_by_cloudformation_becomes_a_node(consumer):
    sandbox, ec2, _, ssm = consumer
    cfn = sandbox.client("cloudformation", "consumer")
    endpoint = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcId": {"Ref": "Vpc"}, "VpcEndpointType": "Interface", "PrivateDnsEnabled": True,
        "SubnetIds": [{"Ref": "Subnet"}]}}
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": "10.40.0.0/16", "EnableDnsSupport": True, "EnableDnsHostnames": True}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.40.0.0/24", "AvailabilityZone": f"{REGION}a"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "cfn-node", "AssumeRolePolicyDocument": json.loads(TRUST),
            "Policies": [{"PolicyName": "agent", "PolicyDocument": json.loads(AGENT_ACTIONS)}]}},
        "Profile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [{"Ref": "Role"}]}},
        "Instance": {"Type": "AWS::EC2::Instance", "DependsOn": ["Ssm", "SsmMessages", "Ec2Messages"],
                     "Properties": {"ImageId": image(ec2), "InstanceType": "t3.micro",
                                    "SubnetId": {"Ref": "Subnet"},
                                    "IamInstanceProfile": {"Ref": "Profile"}}},
    }
    for name, service in (("Ssm", "ssm"), ("SsmMessages", "ssmmessages"), ("Ec2Messages", "ec2messages")):
        resources[name] = json.loads(json.dumps(endpoint))
        resources[name]["Properties"]["ServiceName"] = f"com.amazonaws.{REGION}.{service}"
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources,
                "Outputs": {"InstanceId": {"Value": {"Ref": "Instance"}}}}
    cfn.create_stack(StackName="node", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"])
    stack = wait_until(lambda: next((s for s in cfn.describe_stacks(StackName="node")["Stacks"]
                                     if s["StackStatus"].endswith("COMPLETE")), None),
                       what="the stack complete")
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    instance_id = stack["Outputs"][0]["OutputValue"]
    online(ssm, instance_id)
    assert run(ssm, instance_id, ["aws sts get-caller-identity --query Arn --output text"])[
        "StandardOutputContent"] == f"arn:aws:sts::{CONSUMER}:assumed-role/cfn-node/{instance_id}\n"


def test_the_commands_of_the_test_step_work_on_the_instance(consumer):
    sandbox, _, _, ssm = consumer
    instance_id = node(consumer)
    secrets = sandbox.client("secretsmanager", "consumer")
    arn = secrets.create_secret(Name="api-key", SecretString="s3cret-value")["ARN"]
    result = run(ssm, instance_id, [
        f"aws secretsmanager get-secret-value --secret-id {arn} --query SecretString --output text",
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout client.key -subj /CN=consumer -out client.csr 2>/dev/null",
        "openssl req -in client.csr -noout -subject -nameopt RFC2253",
        "test -s client.key && echo key-kept",
    ])
    assert result["Status"] == "Success", result["StandardErrorContent"]
    assert result["StandardOutputContent"].splitlines() == ["s3cret-value", "subject=CN=consumer",
                                                            "key-kept"]


def test_curl_on_the_instance_reaches_the_vpc_private_names_on_loopback(tmp_path):
    """The curl wrapper: a VPC's private DNS name leads to the loopback listener playing it."""
    import datetime
    import ssl
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import ssm_run_command

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("test CA")).issuer_name(name("test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now)
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name("api.example.com")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("api.example.com")]), False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    class Widgets(BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"{self.headers['Host']} {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Widgets)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bin_dir = ssm_run_command._prepare_bin(str(tmp_path / "instance"),
                                               [("api.example.com", server.server_address[1])])
        answer = subprocess.run(
            [os.path.join(bin_dir, "curl"), "-sS", "--max-time", "20", "https://api.example.com/widgets"],
            env={"PATH": f"{bin_dir}:/usr/bin:/bin", "CURL_CA_BUNDLE": str(tmp_path / "ca.pem")},
            capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert (answer.returncode, answer.stdout) == (0, "api.example.com /widgets"), answer.stderr
