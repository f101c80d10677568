"""Asynchronous CloudFormation: progress, events, failures, rollback, exports and deletion."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import DEADLINE, wait_until

DONE = {
    "CREATE_COMPLETE", "CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_COMPLETE",
    "DELETE_FAILED", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_FAILED",
    "UPDATE_ROLLBACK_FAILED",
}


def vpc_template(extra: dict | None = None, outputs: dict | None = None) -> str:
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "SubnetA": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24"},
        },
        "SecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "web", "VpcId": {"Fn::GetAtt": ["Vpc", "VpcId"]}},
        },
    }
    resources.update(extra or {})
    template = {"Resources": resources}
    template["Outputs"] = outputs if outputs is not None else {
        "VpcId": {"Value": {"Ref": "Vpc"}},
        "SubnetId": {"Value": {"Ref": "SubnetA"}},
    }
    return json.dumps(template)


def status(cfn, stack: str) -> str:
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def settle(cfn, stack: str, timeout: float = DEADLINE) -> str:
    return wait_until(lambda: (s := status(cfn, stack)) in DONE and s, timeout, what=f"{stack} to settle")


def events_oldest_first(cfn, stack: str) -> list[dict]:
    events = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
        events.extend(page["StackEvents"])
    return list(reversed(events))


def resource_statuses(cfn, stack: str) -> list[tuple[str, str]]:
    return [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events_oldest_first(cfn, stack)
            if e["ResourceType"] != "AWS::CloudFormation::Stack"]


def stack_statuses(cfn, stack: str) -> list[str]:
    return [e["ResourceStatus"] for e in events_oldest_first(cfn, stack)
            if e["ResourceType"] == "AWS::CloudFormation::Stack"]


def hold(sandbox, stack: str) -> None:
    """The stack's worker stops at its next step (before a resource, or with one in progress)."""
    sandbox.control("faults/hold-stack", {"stack_name": stack})


def release(sandbox, stack: str) -> None:
    sandbox.control("faults/release-stack", {"stack_name": stack})


def step(sandbox, stack: str) -> None:
    """A held stack's worker takes one more step, then is held again."""
    sandbox.control("faults/step-stack", {"stack_name": stack})


def vpc_ids(ec2) -> set[str]:
    return {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")}


@pytest.fixture
def cfn(fresh):
    return fresh.client("cloudformation", "producer")


@pytest.fixture
def ec2(fresh):
    return fresh.client("ec2", "producer")


def test_change_set_execution_is_asynchronous_with_per_resource_events(fresh, cfn):
    extra = {f"Group{i}": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/x/{i}"}}
             for i in range(8)}
    change_set = cfn.create_change_set(
        StackName="net", ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=vpc_template(extra)
    )
    assert status(cfn, "net") == "REVIEW_IN_PROGRESS"
    wait_until(lambda: cfn.describe_change_set(ChangeSetName=change_set["Id"])["Status"] == "CREATE_COMPLETE")

    # Held, the stack shows the state AWS shows right after ExecuteChangeSet returns.
    hold(fresh, "net")
    cfn.execute_change_set(ChangeSetName=change_set["Id"])
    stack = cfn.describe_stacks(StackName="net")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_IN_PROGRESS"
    assert "Outputs" not in stack
    assert stack_statuses(cfn, "net") == ["REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS"]

    # Poll while resources are made: counts of finished resources grow over time.
    seen_in_progress, finished_counts = set(), set()

    def rows():
        return cfn.describe_stack_resources(StackName="net")["StackResources"]

    def observe():
        found = rows()
        seen_in_progress.update(r["LogicalResourceId"] for r in found if r["ResourceStatus"] == "CREATE_IN_PROGRESS")
        stack_status = status(cfn, "net")
        if stack_status == "CREATE_IN_PROGRESS":
            finished_counts.add(sum(r["ResourceStatus"] == "CREATE_COMPLETE" for r in found))
        return stack_status in DONE

    # Step by step while held, so that a loaded machine cannot finish the stack between polls:
    # the first resource is initiated and stays in progress, then completes.
    observe()
    step(fresh, "net")
    wait_until(lambda: any(r.get("ResourceStatusReason") == "Resource creation Initiated" for r in rows()),
               what="the first resource to be initiated")
    observe()
    step(fresh, "net")
    wait_until(lambda: any(r["ResourceStatus"] == "CREATE_COMPLETE" for r in rows()),
               what="the first resource to complete")
    observe()
    release(fresh, "net")
    wait_until(observe, interval=0.005, what="the stack to finish")
    assert status(cfn, "net") == "CREATE_COMPLETE"
    assert seen_in_progress, "no resource was ever seen CREATE_IN_PROGRESS"
    assert len(finished_counts) > 1, f"progress was not observed over time: {finished_counts}"

    events = events_oldest_first(cfn, "net")
    assert len({e["EventId"] for e in events}) == len(events)
    vpc_events = [e for e in events if e["LogicalResourceId"] == "Vpc"]
    assert [e["ResourceStatus"] for e in vpc_events] == ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert "ResourceStatusReason" not in vpc_events[0]
    assert vpc_events[1]["ResourceStatusReason"] == "Resource creation Initiated"
    assert vpc_events[2]["PhysicalResourceId"].startswith("vpc-")
    for event in events:
        assert event["StackName"] == "net" and event["StackId"].startswith("arn:aws:cloudformation:")
        assert event["Timestamp"] and event["ResourceType"]
    # A resource stays IN_PROGRESS at least the pace ("fast" default is 0.02 s); the subnet was
    # made after the release, at the sandbox's own pace.
    subnet_events = [e for e in events if e["LogicalResourceId"] == "SubnetA"]
    assert (subnet_events[2]["Timestamp"] - subnet_events[0]["Timestamp"]).total_seconds() >= 0.02
    # AWS lists events newest first.
    newest_first = cfn.describe_stack_events(StackName="net")["StackEvents"]
    assert newest_first[0]["ResourceStatus"] == "CREATE_COMPLETE"
    assert newest_first[0]["ResourceType"] == "AWS::CloudFormation::Stack"
    assert stack_statuses(cfn, "net") == ["REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]

    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="net")["Stacks"][0]["Outputs"]}
    assert outputs["VpcId"] == vpc_events[2]["PhysicalResourceId"]
    assert outputs["SubnetId"].startswith("subnet-")
    summaries = cfn.list_stack_resources(StackName="net")["StackResourceSummaries"]
    assert {s["ResourceStatus"] for s in summaries} == {"CREATE_COMPLETE"}
    assert len(summaries) == 11
    assert cfn.describe_change_set(ChangeSetName=change_set["Id"])["ExecutionStatus"] == "EXECUTE_COMPLETE"


def test_resources_are_made_in_dependency_order(cfn):
    # Listed dependants first: only the references decide the order.
    template = {
        "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
        "Resources": {
            "Rule": {
                "Type": "AWS::EC2::SecurityGroupIngress",
                "Properties": {"GroupId": {"Ref": "Group"}, "IpProtocol": "tcp", "FromPort": 443,
                               "ToPort": 443, "CidrIp": {"Fn::Sub": "${Vpc.CidrBlock}"}},
            },
            "Logs": {"Type": "AWS::Logs::LogGroup",
                     "Properties": {"LogGroupName": {"Fn::Sub": "/net/${Subnet}"}}},
            "Group": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "g",
                               "VpcId": {"Fn::If": ["Never", "vpc-none", {"Ref": "Vpc"}]}},
            },
            "Subnet": {"Type": "AWS::EC2::Subnet", "DependsOn": "Group",
                       "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.2.0/24"}},
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        },
    }
    cfn.create_stack(StackName="ordered", TemplateBody=json.dumps(template))
    assert settle(cfn, "ordered") == "CREATE_COMPLETE"
    events = resource_statuses(cfn, "ordered")
    started = {lid: events.index((lid, "CREATE_IN_PROGRESS")) for lid, _ in events}
    completed = {lid: events.index((lid, "CREATE_COMPLETE")) for lid, _ in events}
    for dependant, dependency in [("Group", "Vpc"), ("Subnet", "Group"), ("Subnet", "Vpc"),
                                  ("Logs", "Subnet"), ("Rule", "Group"), ("Rule", "Vpc")]:
        assert completed[dependency] < started[dependant], f"{dependant} began before {dependency} ended"
    # One at a time: each resource completes before the next begins.
    order = [lid for lid, st in events if st == "CREATE_IN_PROGRESS"][::2]
    assert [lid for lid, st in events if st == "CREATE_COMPLETE"] == order


def optional_vpc_template(group: dict) -> str:
    return json.dumps({
        "Parameters": {"Make": {"Type": "String", "Default": "no"}},
        "Conditions": {"MakeVpc": {"Fn::Equals": [{"Ref": "Make"}, "yes"]}},
        # The dependant first: only the reference can put the VPC before it.
        "Resources": {
            "Group": {"Type": "AWS::Logs::LogGroup", **group},
            "Vpc": {"Type": "AWS::EC2::VPC", "Condition": "MakeVpc",
                    "Properties": {"CidrBlock": "10.0.0.0/16"}},
        },
    })


def test_depends_on_a_resource_its_condition_leaves_out_fails_the_template(cfn):
    template = optional_vpc_template({"DependsOn": "Vpc"})
    with pytest.raises(ClientError) as refused:
        cfn.create_stack(StackName="optional-dep", TemplateBody=template)
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert "Unresolved resource dependencies [Vpc]" in refused.value.response["Error"]["Message"]
    # With the condition true the same DependsOn is an ordinary dependency.
    cfn.create_stack(StackName="optional-dep", TemplateBody=template,
                     Parameters=[{"ParameterKey": "Make", "ParameterValue": "yes"}])
    assert settle(cfn, "optional-dep") == "CREATE_COMPLETE"


@pytest.mark.parametrize("make", ["yes", "no"])
def test_a_conditional_reference_in_metadata_orders_only_what_is_made(cfn, make):
    ref = {"Fn::If": ["MakeVpc", {"Ref": "Vpc"}, {"Ref": "AWS::NoValue"}]}
    stack = f"optional-meta-{make}"
    cfn.create_stack(StackName=stack, TemplateBody=optional_vpc_template({"Metadata": {"After": ref}}),
                     Parameters=[{"ParameterKey": "Make", "ParameterValue": make}])
    assert settle(cfn, stack) == "CREATE_COMPLETE"
    made = [lid for lid, st in resource_statuses(cfn, stack) if st == "CREATE_COMPLETE"]
    assert made == (["Vpc", "Group"] if make == "yes" else ["Group"])


def test_injected_failure_rolls_back_and_deletes_what_was_made(fresh, cfn, ec2):
    reason = ('Resource handler returned message: "The CIDR \'10.0.1.0/24\' conflicts with another '
              'subnet" (RequestToken: 0d2c, HandlerErrorCode: AlreadyExists)')
    fresh.control("faults/fail-resource", {"logical_id": "SecurityGroup", "reason": reason, "stack_name": "boom"})
    hold(fresh, "boom")
    cfn.create_stack(StackName="boom", TemplateBody=vpc_template())
    assert status(cfn, "boom") == "CREATE_IN_PROGRESS"
    release(fresh, "boom")
    assert settle(cfn, "boom") == "ROLLBACK_COMPLETE"

    events = events_oldest_first(cfn, "boom")
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [(e["LogicalResourceId"], e["ResourceStatusReason"]) for e in failed] == [("SecurityGroup", reason)]
    rollback = next(e for e in events if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS")
    assert rollback["ResourceStatusReason"] == (
        "The following resource(s) failed to create: [SecurityGroup]. Rollback requested by user."
    )
    after_rollback = resource_statuses(cfn, "boom")[events.index(rollback) - 2:]
    deletions = [(lid, st) for lid, st in after_rollback if st.startswith("DELETE_")]
    made = [lid for lid, st in resource_statuses(cfn, "boom") if st == "CREATE_COMPLETE"]
    assert made == ["Vpc", "SubnetA"]
    # Reverse order: the subnet before its VPC.
    assert ("SubnetA", "DELETE_IN_PROGRESS") in deletions and ("Vpc", "DELETE_COMPLETE") in deletions
    assert deletions.index(("SubnetA", "DELETE_COMPLETE")) < deletions.index(("Vpc", "DELETE_IN_PROGRESS"))
    assert stack_statuses(cfn, "boom")[-2:] == ["ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    stack = cfn.describe_stacks(StackName="boom")["Stacks"][0]
    assert "Outputs" not in stack
    assert vpc_ids(ec2) == set()
    assert ec2.describe_subnets(Filters=[{"Name": "cidr-block", "Values": ["10.0.1.0/24"]}])["Subnets"] == []


def test_moto_error_becomes_create_failed_with_the_real_cause(cfn, ec2):
    bad_subnet = {"BadSubnet": {"Type": "AWS::EC2::Subnet", "DependsOn": "SubnetA",
                                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "192.168.0.0/24"}}}
    cfn.create_stack(StackName="badcidr", TemplateBody=vpc_template(bad_subnet))
    assert settle(cfn, "badcidr") == "ROLLBACK_COMPLETE"
    failed = [e for e in events_oldest_first(cfn, "badcidr") if e["ResourceStatus"] == "CREATE_FAILED"]
    assert len(failed) == 1 and failed[0]["LogicalResourceId"] == "BadSubnet"
    reason = failed[0]["ResourceStatusReason"]
    assert reason.startswith('Resource handler returned message: "The CIDR \'192.168.0.0/24\' is invalid.')
    assert "(Service: Ec2, Status Code: 400, Request ID: " in reason
    assert reason.endswith("HandlerErrorCode: InvalidRequest)")
    assert vpc_ids(ec2) == set()


def test_disable_rollback_keeps_what_was_made(fresh, cfn, ec2):
    fresh.control("faults/fail-resource", {"logical_id": "SecurityGroup", "reason": "boom"})
    cfn.create_stack(StackName="keep", TemplateBody=vpc_template(), DisableRollback=True)
    assert settle(cfn, "keep") == "CREATE_FAILED"
    stack = cfn.describe_stacks(StackName="keep")["Stacks"][0]
    assert stack["DisableRollback"] is True
    assert stack["StackStatusReason"] == "The following resource(s) failed to create: [SecurityGroup]."
    assert "ROLLBACK_IN_PROGRESS" not in stack_statuses(cfn, "keep")
    rows = {r["LogicalResourceId"]: r["ResourceStatus"]
            for r in cfn.describe_stack_resources(StackName="keep")["StackResources"]}
    assert rows == {"Vpc": "CREATE_COMPLETE", "SubnetA": "CREATE_COMPLETE", "SecurityGroup": "CREATE_FAILED"}
    assert len(vpc_ids(ec2)) == 1


def test_disable_rollback_on_execute_change_set(fresh, cfn, ec2):
    fresh.control("faults/fail-resource", {"logical_id": "SubnetA", "reason": "no capacity"})
    change_set = cfn.create_change_set(StackName="cskeep", ChangeSetName="c", ChangeSetType="CREATE",
                                       TemplateBody=vpc_template())
    cfn.execute_change_set(ChangeSetName=change_set["Id"], DisableRollback=True)
    assert settle(cfn, "cskeep") == "CREATE_FAILED"
    assert len(vpc_ids(ec2)) == 1
    assert cfn.describe_change_set(ChangeSetName=change_set["Id"])["ExecutionStatus"] == "EXECUTE_FAILED"


def test_held_stack_stays_in_progress_until_released(fresh, cfn):
    hold(fresh, "held")
    cfn.create_stack(StackName="held", TemplateBody=vpc_template())
    for _ in range(20):
        assert status(cfn, "held") == "CREATE_IN_PROGRESS"
        assert cfn.describe_stack_resources(StackName="held")["StackResources"] == []
    # AWS refuses to update a stack while an operation runs.
    with pytest.raises(ClientError) as refused:
        cfn.update_stack(StackName="held", TemplateBody=vpc_template({}, {}))
    assert "is in CREATE_IN_PROGRESS state and can not be updated" in str(refused.value)
    release(fresh, "held")
    assert settle(cfn, "held") == "CREATE_COMPLETE"


def test_unknown_resource_type_fails_the_stack(cfn, ec2):
    unknown = {"Mystery": {"Type": "AWS::Foo::Bar", "DependsOn": "SubnetA", "Properties": {"Size": 1}}}
    cfn.create_stack(StackName="mystery", TemplateBody=vpc_template(unknown))
    assert settle(cfn, "mystery") == "ROLLBACK_COMPLETE"
    failed = [e for e in events_oldest_first(cfn, "mystery") if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [(e["LogicalResourceId"], e["ResourceType"], e["ResourceStatusReason"]) for e in failed] == [
        ("Mystery", "AWS::Foo::Bar", "The xwizard sandbox does not emulate resource type AWS::Foo::Bar")
    ]
    assert vpc_ids(ec2) == set()


def test_a_change_set_without_changes_is_made_and_fails_while_update_stack_is_refused(cfn, ec2):
    cfn.create_stack(StackName="same", TemplateBody=vpc_template())
    assert settle(cfn, "same") == "CREATE_COMPLETE"
    # AWS makes the change set and marks it FAILED with the reason; the call itself succeeds.
    cfn.create_change_set(StackName="same", ChangeSetName="again", TemplateBody=vpc_template(),
                          ChangeSetType="UPDATE")
    change_set = wait_until(
        lambda: (c := cfn.describe_change_set(StackName="same", ChangeSetName="again"))["Status"]
        in ("FAILED", "CREATE_COMPLETE") and c, what="the change set to settle")
    assert change_set["Status"] == "FAILED"
    assert change_set["StatusReason"].startswith("The submitted information didn't contain changes.")
    assert change_set["ExecutionStatus"] == "UNAVAILABLE"
    # UpdateStack with nothing to change is refused outright.
    with pytest.raises(ClientError) as refused:
        cfn.update_stack(StackName="same", TemplateBody=vpc_template())
    assert refused.value.response["Error"]["Message"] == "No updates are to be performed."
    assert status(cfn, "same") == "CREATE_COMPLETE"


def test_deleting_a_stack_whose_export_is_imported_is_refused(cfn, ec2):
    exporting = {"VpcId": {"Value": {"Ref": "Vpc"}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-vpc"}}}}
    cfn.create_stack(StackName="producer", TemplateBody=vpc_template(outputs=exporting))
    assert settle(cfn, "producer") == "CREATE_COMPLETE"
    importing = {"Resources": {"Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "g", "VpcId": {"Fn::ImportValue": "producer-vpc"}}}}}
    cfn.create_stack(StackName="consumer", TemplateBody=json.dumps(importing))
    assert settle(cfn, "consumer") == "CREATE_COMPLETE"
    assert [e["Name"] for e in cfn.list_exports()["Exports"]] == ["producer-vpc"]

    cfn.delete_stack(StackName="producer")
    expected = "Export producer-vpc cannot be deleted as it is in use by consumer"

    def refusal():
        return next((e for e in cfn.describe_stack_events(StackName="producer")["StackEvents"]
                     if e.get("ResourceStatusReason") == expected), None)

    event = wait_until(refusal, what="the refusal event")
    # AWS leaves the stack in its previous status and says why (no DELETE_FAILED).
    assert event["ResourceStatus"] == "CREATE_COMPLETE"
    stack = cfn.describe_stacks(StackName="producer")["Stacks"][0]
    assert (stack["StackStatus"], stack["StackStatusReason"]) == ("CREATE_COMPLETE", expected)
    assert stack_statuses(cfn, "producer")[-2:] == ["DELETE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert len(vpc_ids(ec2)) == 1

    cfn.delete_stack(StackName="consumer")
    wait_until(lambda: "consumer" not in {s["StackName"] for s in cfn.describe_stacks()["Stacks"]})
    cfn.delete_stack(StackName="producer")
    wait_until(lambda: not cfn.describe_stacks()["Stacks"], what="both stacks gone")
    assert cfn.list_exports()["Exports"] == []
    assert vpc_ids(ec2) == set()


def test_update_stack_adds_then_cleans_up(fresh, cfn, ec2):
    cfn.create_stack(StackName="upd", TemplateBody=vpc_template())
    assert settle(cfn, "upd") == "CREATE_COMPLETE"
    old_subnet = cfn.describe_stack_resource(StackName="upd", LogicalResourceId="SubnetA")[
        "StackResourceDetail"]["PhysicalResourceId"]

    template = json.loads(vpc_template())
    del template["Resources"]["SubnetA"]
    template["Resources"]["SubnetB"] = {"Type": "AWS::EC2::Subnet",
                                        "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.9.0/24"}}
    template["Outputs"] = {"SubnetId": {"Value": {"Ref": "SubnetB"}}}
    hold(fresh, "upd")
    cfn.update_stack(StackName="upd", TemplateBody=json.dumps(template))
    assert status(cfn, "upd") == "UPDATE_IN_PROGRESS"
    release(fresh, "upd")
    assert settle(cfn, "upd") == "UPDATE_COMPLETE"

    assert stack_statuses(cfn, "upd")[-3:] == [
        "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]
    tail = resource_statuses(cfn, "upd")[-5:]
    assert tail == [("SubnetB", "CREATE_IN_PROGRESS"), ("SubnetB", "CREATE_IN_PROGRESS"),
                    ("SubnetB", "CREATE_COMPLETE"), ("SubnetA", "DELETE_IN_PROGRESS"),
                    ("SubnetA", "DELETE_COMPLETE")]
    stack = cfn.describe_stacks(StackName="upd")["Stacks"][0]
    new_subnet = stack["Outputs"][0]["OutputValue"]
    assert new_subnet.startswith("subnet-") and new_subnet != old_subnet
    subnets = {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
    assert new_subnet in subnets and old_subnet not in subnets
    assert {r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName="upd")["StackResourceSummaries"]} == {
        "Vpc", "SecurityGroup", "SubnetB"}
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName="upd", TemplateBody=json.dumps(template))


def test_update_change_set_failure_rolls_back(fresh, cfn, ec2):
    cfn.create_stack(StackName="updfail", TemplateBody=vpc_template())
    assert settle(cfn, "updfail") == "CREATE_COMPLETE"
    fresh.control("faults/fail-resource", {"logical_id": "SubnetC", "reason": "no room"})
    extra = {
        "SubnetB": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.7.0/24"}},
        "SubnetC": {"Type": "AWS::EC2::Subnet", "DependsOn": "SubnetB",
                    "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.8.0/24"}},
    }
    change_set = cfn.create_change_set(StackName="updfail", ChangeSetName="grow", ChangeSetType="UPDATE",
                                       TemplateBody=vpc_template(extra))
    hold(fresh, "updfail")
    cfn.execute_change_set(ChangeSetName=change_set["Id"])
    assert status(cfn, "updfail") == "UPDATE_IN_PROGRESS"
    release(fresh, "updfail")
    assert settle(cfn, "updfail") == "UPDATE_ROLLBACK_COMPLETE"
    assert stack_statuses(cfn, "updfail")[-4:] == [
        "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]
    assert ("SubnetB", "DELETE_COMPLETE") in resource_statuses(cfn, "updfail")
    cidrs = {s["CidrBlock"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] in vpc_ids(ec2)}
    assert cidrs == {"10.0.1.0/24"}
    outputs = {o["OutputKey"] for o in cfn.describe_stacks(StackName="updfail")["Stacks"][0]["Outputs"]}
    assert outputs == {"VpcId", "SubnetId"}


def test_delete_removes_resources_in_reverse_order(fresh, cfn, ec2):
    stack_id = cfn.create_stack(StackName="gone", TemplateBody=vpc_template())["StackId"]
    assert settle(cfn, "gone") == "CREATE_COMPLETE"
    assert len(vpc_ids(ec2)) == 1
    hold(fresh, "gone")
    cfn.delete_stack(StackName="gone")
    assert status(cfn, "gone") == "DELETE_IN_PROGRESS"
    release(fresh, "gone")
    wait_until(lambda: cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE",
               what="deletion")

    with pytest.raises(ClientError, match="Stack with id gone does not exist"):
        cfn.describe_stacks(StackName="gone")
    deletions = [(lid, st) for lid, st in resource_statuses(cfn, stack_id) if st.startswith("DELETE_")]
    deleted_order = [lid for lid, st in deletions if st == "DELETE_COMPLETE"]
    assert deleted_order.index("SubnetA") < deleted_order.index("Vpc")
    assert deleted_order.index("SecurityGroup") < deleted_order.index("Vpc")
    assert len(deletions) == 6
    assert stack_statuses(cfn, stack_id)[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert vpc_ids(ec2) == set()


def test_an_injected_delete_failure_leaves_delete_failed_and_a_second_delete_finishes(fresh, cfn, ec2):
    stack_id = cfn.create_stack(StackName="stuck", TemplateBody=vpc_template())["StackId"]
    assert settle(cfn, "stuck") == "CREATE_COMPLETE"
    reason = "resource vpc has a dependent object (Service: Ec2, Status Code: 400)"
    fresh.control("faults/fail-resource", {"logical_id": "Vpc", "reason": reason, "on": "delete"})
    cfn.delete_stack(StackName="stuck")
    stack = wait_until(lambda: (s := cfn.describe_stacks(StackName=stack_id)["Stacks"][0])["StackStatus"]
                       in DONE and s, what="the delete to settle")
    assert (stack["StackStatus"], stack["StackStatusReason"]) == (
        "DELETE_FAILED", "The following resource(s) failed to delete: [Vpc]. ")
    failed = [(e["LogicalResourceId"], e["ResourceStatusReason"]) for e in events_oldest_first(cfn, stack_id)
              if e["ResourceStatus"] == "DELETE_FAILED" and e["ResourceType"] != "AWS::CloudFormation::Stack"]
    assert failed == [("Vpc", reason)]
    assert len(vpc_ids(ec2)) == 1  # what failed to go is still there; the rest is gone
    # The fault fired once: deleting again, as AWS allows from DELETE_FAILED, finishes.
    cfn.delete_stack(StackName=stack_id)
    wait_until(lambda: cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE",
               what="the second deletion")
    assert vpc_ids(ec2) == set()


def test_a_fault_on_an_unknown_operation_is_refused(fresh):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as refused:
        fresh.control("faults/fail-resource", {"logical_id": "Vpc", "reason": "x", "on": "update"})
    assert refused.value.code == 400
    assert "on must be one of create, delete" in refused.value.read().decode()


def test_sixty_resources_complete_with_every_event(cfn, ec2):
    resources = {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}
    for i in range(20):
        resources[f"Subnet{i}"] = {"Type": "AWS::EC2::Subnet",
                                   "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": f"10.0.{i}.0/24"}}
        resources[f"Group{i}"] = {"Type": "AWS::EC2::SecurityGroup",
                                  "Properties": {"GroupDescription": f"g{i}", "VpcId": {"Ref": "Vpc"}}}
    for i in range(19):
        resources[f"Logs{i}"] = {"Type": "AWS::Logs::LogGroup",
                                 "Properties": {"LogGroupName": {"Fn::Sub": f"/big/${{Subnet{i}}}"}}}
    assert len(resources) == 60
    cfn.create_stack(StackName="big", TemplateBody=json.dumps({"Resources": resources}))
    assert settle(cfn, "big") == "CREATE_COMPLETE"
    events = events_oldest_first(cfn, "big")
    # Three events per resource plus CREATE_IN_PROGRESS and CREATE_COMPLETE for the stack.
    assert len(events) == 60 * 3 + 2
    assert len(cfn.list_stack_resources(StackName="big")["StackResourceSummaries"]) == 60
    assert len(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": list(vpc_ids(ec2))}])["Subnets"]) == 20


def test_a_create_change_set_reuses_a_stack_left_in_review(cfn):
    """A change set made but never executed leaves its stack REVIEW_IN_PROGRESS; on AWS the next
    CREATE change set of that name joins that stack instead of making a second one."""
    name = "left-in-review"
    first = cfn.create_change_set(StackName=name, ChangeSetName="first", ChangeSetType="CREATE",
                                  TemplateBody=vpc_template())
    assert status(cfn, name) == "REVIEW_IN_PROGRESS"
    second = cfn.create_change_set(StackName=name, ChangeSetName="second", ChangeSetType="CREATE",
                                   TemplateBody=vpc_template())
    assert second["StackId"] == first["StackId"]
    live = [s for s in cfn.list_stacks()["StackSummaries"]
            if s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE"]
    assert len(live) == 1, live
    cfn.execute_change_set(StackName=name, ChangeSetName="second")
    assert settle(cfn, name) == "CREATE_COMPLETE"

    # A stack that exists and is not in review refuses another CREATE change set.
    with pytest.raises(ClientError) as refused:
        cfn.create_change_set(StackName=name, ChangeSetName="third", ChangeSetType="CREATE",
                              TemplateBody=vpc_template())
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert f"Stack [{name}] already exists" in refused.value.response["Error"]["Message"]
