"""Eventually consistent stack reads: right after a change, DescribeStacks and
DescribeStackEvents answer from before it, as AWS's sometimes do."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import wait_until
from test_async_cloudformation import vpc_template

LONG = 600_000  # ms: the window outlasts the test; turning it off ends it


@pytest.fixture
def cfn(fresh):
    yield fresh.client("cloudformation", "consumer")
    fresh.control("faults/stale-reads", {"ms": 0})


def status(cfn, stack: str) -> str:
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def listed(cfn, stack: str) -> str | None:
    """ListStacks does not lag: the truth, to wait on."""
    for s in cfn.list_stacks()["StackSummaries"]:
        if s["StackName"] == stack and s["StackStatus"] != "DELETE_COMPLETE":
            return s["StackStatus"]
    return None


def test_reads_lag_a_create_an_execute_and_a_delete(fresh, cfn):
    fresh.control("faults/stale-reads", {"ms": LONG})
    cfn.create_change_set(StackName="lagging", ChangeSetName="one", ChangeSetType="CREATE",
                          TemplateBody=vpc_template())
    # The change set answers at once; its new stack is not visible yet.
    assert cfn.describe_change_set(StackName="lagging", ChangeSetName="one")["Status"] \
        == "CREATE_COMPLETE"
    with pytest.raises(ClientError) as missing:
        cfn.describe_stacks(StackName="lagging")
    assert "does not exist" in missing.value.response["Error"]["Message"]
    fresh.control("faults/stale-reads", {"ms": 0})
    assert status(cfn, "lagging") == "REVIEW_IN_PROGRESS"
    events_before = cfn.describe_stack_events(StackName="lagging")["StackEvents"]

    # Executed and finished, the stack still reads as it was, with none of the new events.
    fresh.control("faults/stale-reads", {"ms": LONG})
    cfn.execute_change_set(StackName="lagging", ChangeSetName="one")
    wait_until(lambda: listed(cfn, "lagging") == "CREATE_COMPLETE", what="the stack to finish")
    assert status(cfn, "lagging") == "REVIEW_IN_PROGRESS"
    assert cfn.describe_stack_events(StackName="lagging")["StackEvents"] == events_before
    fresh.control("faults/stale-reads", {"ms": 0})
    assert status(cfn, "lagging") == "CREATE_COMPLETE"
    assert len(cfn.describe_stack_events(StackName="lagging")["StackEvents"]) > len(events_before)

    # Deleted and gone, it still reads as complete.
    fresh.control("faults/stale-reads", {"ms": LONG})
    cfn.delete_stack(StackName="lagging")
    wait_until(lambda: listed(cfn, "lagging") is None, what="the stack to go")
    assert status(cfn, "lagging") == "CREATE_COMPLETE"
    fresh.control("faults/stale-reads", {"ms": 0})
    with pytest.raises(ClientError):
        cfn.describe_stacks(StackName="lagging")


def test_a_short_window_closes_by_itself(fresh, cfn):
    fresh.control("faults/stale-reads", {"ms": 300})
    cfn.create_stack(StackName="brief", TemplateBody=vpc_template())
    wait_until(lambda: listed(cfn, "brief") == "CREATE_COMPLETE", what="the stack to finish")

    def fresh_read():
        try:
            return status(cfn, "brief") == "CREATE_COMPLETE"
        except ClientError:
            return False

    wait_until(fresh_read, what="reads to catch up")


def test_a_negative_window_is_refused(fresh, cfn):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as refused:
        fresh.control("faults/stale-reads", {"ms": -1})
    assert refused.value.code == 400
