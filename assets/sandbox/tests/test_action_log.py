"""The IAM actions each account's calls needed, recorded as AWS would authorize them."""

from __future__ import annotations

from conftest import CONSUMER, PRODUCER


def test_each_protocol_is_recorded_as_its_iam_action_in_its_account(fresh):
    fresh.client("cloudformation", "producer").list_stacks()  # query protocol
    fresh.client("ec2", "consumer").describe_vpcs()  # EC2 query protocol
    fresh.client("secretsmanager", "consumer").list_secrets()  # JSON protocol
    fresh.client("kms", "consumer").list_keys()  # JSON, another target prefix
    fresh.client("apigateway", "producer").get_rest_apis()  # REST, by HTTP method
    fresh.client("sts", "producer").get_caller_identity()  # needs no permission
    seen = fresh.control("actions")
    assert seen[PRODUCER] == ["apigateway:GET", "cloudformation:ListStacks"]
    assert seen[CONSUMER] == ["ec2:DescribeVpcs", "kms:ListKeys", "secretsmanager:ListSecrets"]
    fresh.control("reset", {})
    assert fresh.control("actions") == {}


def test_each_call_is_counted_with_its_time_and_the_stack_it_names(fresh):
    cfn = fresh.client("cloudformation", "consumer")
    cfn.list_stacks()
    for name in ("counted", f"arn:aws:cloudformation:us-east-1:{CONSUMER}:stack/counted/1234"):
        try:
            cfn.describe_stacks(StackName=name)
        except cfn.exceptions.ClientError:
            pass  # no such stack: the call is counted all the same
    calls = fresh.control("calls")
    assert [(c["account"], c["action"], c["stack"]) for c in calls] == [
        (CONSUMER, "cloudformation:ListStacks", ""),
        (CONSUMER, "cloudformation:DescribeStacks", "counted"),
        (CONSUMER, "cloudformation:DescribeStacks", "counted"),
    ]
    assert calls[0]["t"] <= calls[1]["t"] <= calls[2]["t"]
    fresh.control("reset", {})
    assert fresh.control("calls") == []


def test_s3_and_route_53_calls_are_named_as_iam_names_them(fresh):
    s3 = fresh.client("s3", "producer")
    s3.create_bucket(Bucket="named-actions")
    s3.put_bucket_versioning(Bucket="named-actions",
                             VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket="named-actions", Key="a/b.pem", Body=b"x")
    s3.get_object(Bucket="named-actions", Key="a/b.pem")
    s3.head_object(Bucket="named-actions", Key="a/b.pem", VersionId=put["VersionId"])
    s3.list_object_versions(Bucket="named-actions")
    s3.delete_objects(Bucket="named-actions", Delete={
        "Objects": [{"Key": "a/b.pem", "VersionId": put["VersionId"]}], "Quiet": True})
    s3.delete_objects(Bucket="named-actions", Delete={"Objects": [{"Key": "gone"}]})
    s3.delete_bucket(Bucket="named-actions")
    route53 = fresh.client("route53", "consumer")
    zone = route53.create_hosted_zone(Name="actions.test", CallerReference="actions")
    zone_id = zone["HostedZone"]["Id"].split("/")[-1]
    route53.list_hosted_zones_by_name(DNSName="actions.test.")
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": "_x.actions.test.", "Type": "TXT", "TTL": 60,
            "ResourceRecords": [{"Value": '"v"'}]}}]})
    route53.list_resource_record_sets(HostedZoneId=zone_id)
    seen = fresh.control("actions")
    assert seen[PRODUCER] == [
        "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion",
        "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucketVersions",
        "s3:PutBucketVersioning", "s3:PutObject",
    ]
    assert seen[CONSUMER] == [
        "route53:ChangeResourceRecordSets", "route53:CreateHostedZone",
        "route53:ListHostedZonesByName", "route53:ListResourceRecordSets",
    ]


def test_forgetting_the_actions_starts_the_record_afresh_and_keeps_the_calls(fresh):
    fresh.client("ec2", "consumer").describe_vpcs()
    assert fresh.control("actions/forget", {}) == {"forgotten": True}
    assert fresh.control("actions") == {}
    fresh.client("ec2", "producer").describe_subnets()
    assert fresh.control("actions") == {PRODUCER: ["ec2:DescribeSubnets"]}
    assert [c["action"] for c in fresh.control("calls")] == [
        "ec2:DescribeVpcs", "ec2:DescribeSubnets"]


def test_tags_given_at_a_cas_creation_need_the_tagging_action_too(fresh):
    pca = fresh.client("acm-pca", "producer")
    config = {"KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
              "Subject": {"CommonName": "action log"}}
    pca.create_certificate_authority(CertificateAuthorityConfiguration=config,
                                     CertificateAuthorityType="ROOT")
    assert fresh.control("actions")[PRODUCER] == ["acm-pca:CreateCertificateAuthority"]
    pca.create_certificate_authority(CertificateAuthorityConfiguration=config,
                                     CertificateAuthorityType="ROOT",
                                     Tags=[{"Key": "xwizard:deployment", "Value": "d"}])
    assert fresh.control("actions")[PRODUCER] == [
        "acm-pca:CreateCertificateAuthority", "acm-pca:TagCertificateAuthority"]
