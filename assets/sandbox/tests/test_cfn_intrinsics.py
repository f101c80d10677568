"""Fn::Cidr, which cfn_intrinsics.py adds to moto's template engine, as AWS computes it."""

from __future__ import annotations

import os
import sys

import pytest
from moto.cloudformation.exceptions import ValidationError

from test_cfn_resource_types import att, deploy, deploy_fails, destroy, ref

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cfn_intrinsics  # noqa: E402


def test_cidr_matches_the_reference_examples():
    # The CloudFormation reference's example: six /27 blocks from a /24.
    assert cfn_intrinsics.cidr("192.168.0.0/24", 6, 5) == [
        "192.168.0.0/27", "192.168.0.32/27", "192.168.0.64/27",
        "192.168.0.96/27", "192.168.0.128/27", "192.168.0.160/27",
    ]
    # Its JSON form passes the numbers as strings.
    assert cfn_intrinsics.cidr("192.168.0.0/24", "6", "5") == cfn_intrinsics.cidr("192.168.0.0/24", 6, 5)
    # cidrBits 8 gives /24 blocks.
    assert cfn_intrinsics.cidr("10.0.0.0/16", 3, 8) == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    # IPv6: 128 - cidrBits, so 64 gives /64 blocks, compressed as EC2 shows them.
    assert cfn_intrinsics.cidr("2600:1f18:abcd:ef00::/56", 3, 64) == [
        "2600:1f18:abcd:ef00::/64", "2600:1f18:abcd:ef01::/64", "2600:1f18:abcd:ef02::/64",
    ]
    # The whole block is one block of its own size.
    assert cfn_intrinsics.cidr("10.1.0.0/16", 1, 16) == ["10.1.0.0/16"]


@pytest.mark.parametrize("arguments", [
    ("10.0.0.0/16", 0, 8),        # count below 1
    ("10.0.0.0/16", 257, 8),      # count above 256
    ("10.0.0.0/24", 4, 8),        # one /24 in a /24, not four
    ("10.0.0.0/24", 1, 9),        # blocks larger than the block split
    ("not-a-cidr", 1, 8),
    ("10.0.0.0/16", "x", 8),
])
def test_cidr_refuses_what_aws_refuses(arguments):
    with pytest.raises(ValidationError):
        cfn_intrinsics.cidr(*arguments)


def test_cidr_in_a_stack_from_a_vpcs_cidr_block(fresh):
    cidr = {"Fn::Cidr": [att("Vpc", "CidrBlock"), 4, 14]}
    stack_id, out = deploy(fresh, "consumer", {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": ref("Vpc"), "AvailabilityZone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
            "CidrBlock": {"Fn::Select": [2, cidr]}}},
    }, outputs={
        "Subnet": ref("Subnet"),
        "All": {"Fn::Join": [",", cidr]},
        "V6": {"Fn::Join": [",", {"Fn::Cidr": ["2001:db8::/56", "2", "64"]}]},
    })
    assert out["All"] == "10.0.0.0/18,10.0.64.0/18,10.0.128.0/18,10.0.192.0/18"
    assert out["V6"] == "2001:db8::/64,2001:db8:0:1::/64"
    ec2 = fresh.client("ec2", "consumer")
    assert ec2.describe_subnets(SubnetIds=[out["Subnet"]])["Subnets"][0]["CidrBlock"] == "10.0.128.0/18"
    destroy(fresh, "consumer", stack_id)


def test_cidr_that_cannot_be_computed_fails_the_stack(fresh):
    reason = deploy_fails(fresh, "consumer", {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/24"}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": ref("Vpc"),
            "CidrBlock": {"Fn::Select": [0, {"Fn::Cidr": [att("Vpc", "CidrBlock"), 2, 8]}]}}},
    })
    assert "Fn::Cidr" in reason
