#!/usr/bin/env bash
# Pattern 1 as a user would script it with the AWS CLI, from xwizard's own templates: the peer
# xwizard's run is timed against (bench/measure.py). Every step is one or more `aws` calls,
# each a Python process of its own, as such a script pays.
#
#   eval "$(xwizard sandbox env)"          # the two accounts' profiles, all on 127.0.0.1
#   bash bench/peer/pattern1.sh NAME
#
# Steps: consumer-vpc stack -> its outputs -> the endpoint's addresses registered as the load
# balancer's targets -> producer stack with parameters -> the endpoint policy scoped to the
# producer API -> consumer-api stack -> test calls (curl through the sandbox's data plane, and
# the consumer function) -> cleanup in dependency order (producer and consumer-api together,
# then consumer-vpc after emptying its bucket).
#
# Waiting: the CLI's own waiters (`aws cloudformation wait`, a call every 30 s) unless
# PEER_POLL_SECONDS is set, in which case a DescribeStacks loop every that many seconds.
# AWS (the aws command) is the CLI to use; CURL the curl.
set -euo pipefail

name=${1:?usage: pattern1.sh DEPLOYMENT-NAME}
here=$(cd "$(dirname "$0")" && pwd)
templates=$here/../../assets/templates/pattern1
aws=${AWS:-aws}
curl=${CURL:-curl}
: "${AWS_CONFIG_FILE:?point the AWS CLI at the sandbox first: eval \"\$(xwizard sandbox env)\"}"
: "${XWIZARD_SANDBOX_DATA_PLANE:?the sandbox's data plane is not in the environment}"
: "${XWIZARD_SANDBOX_CA_FILE:?the sandbox's CA file is not in the environment}"

producer=(--profile sandbox-producer)
consumer=(--profile sandbox-consumer)
vpc_stack=xw-$name-consumer-vpc
producer_stack=xw-$name-producer
api_stack=xw-$name-consumer-api

say() { printf '== %s\n' "$*" >&2; }

account_of() { "$aws" "$@" sts get-caller-identity --query Account --output text; }

# wait_stack PROFILE-ARGS... -- STACK create|delete
wait_stack() {
    local args=() stack what
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    stack=$1 what=$2
    if [ -z "${PEER_POLL_SECONDS:-}" ]; then
        "$aws" "${args[@]}" cloudformation wait "stack-$what-complete" --stack-name "$stack"
        return
    fi
    local deadline=$((SECONDS + 1800)) status
    while [ "$SECONDS" -lt "$deadline" ]; do
        status=$("$aws" "${args[@]}" cloudformation describe-stacks --stack-name "$stack" \
            --query 'Stacks[0].StackStatus' --output text 2>/dev/null || echo DELETE_COMPLETE)
        case $status in
            *_IN_PROGRESS) sleep "$PEER_POLL_SECONDS" ;;
            CREATE_COMPLETE | UPDATE_COMPLETE) [ "$what" = create ] && return 0 ;;&
            DELETE_COMPLETE) [ "$what" = delete ] && return 0 ;;&
            *) echo "stack $stack ended $status" >&2; return 1 ;;
        esac
    done
    echo "stack $stack still in progress after 30 minutes" >&2
    return 1
}

# output PROFILE-ARGS... -- STACK KEY
output() {
    local args=()
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    "$aws" "${args[@]}" cloudformation describe-stacks --stack-name "$1" \
        --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}

# The CloudWatch role API Gateway logs through in an account: the one set, or one made now.
logging_role() {
    local existing
    existing=$("$aws" "$@" apigateway get-account --query cloudwatchRoleArn --output text)
    if [ -n "$existing" ] && [ "$existing" != None ]; then
        printf '%s\n' "$existing"
        return
    fi
    local role=xw-$name-apigw-cloudwatch
    "$aws" "$@" iam create-role --role-name "$role" --query Role.Arn --output text \
        --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
          "Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
    "$aws" "$@" iam attach-role-policy --role-name "$role" --policy-arn \
        arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs
    echo "new:$("$aws" "$@" iam get-role --role-name "$role" --query Role.Arn --output text)"
}

# logging_parameters ROLE: the stack parameters for an existing role, or one to set.
logging_parameters() {
    case $1 in
        new:*) echo "ParameterKey=ExistingApiGatewayLoggingRoleArn,ParameterValue=" \
                    "ParameterKey=ApiGatewayLoggingRoleToSet,ParameterValue=${1#new:}" ;;
        *) echo "ParameterKey=ExistingApiGatewayLoggingRoleArn,ParameterValue=$1" \
                "ParameterKey=ApiGatewayLoggingRoleToSet,ParameterValue=" ;;
    esac
}

caps=(--capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM)
producer_account=$(account_of "${producer[@]}")
consumer_account=$(account_of "${consumer[@]}")

say "consumer-vpc stack"
"$aws" "${consumer[@]}" cloudformation create-stack --stack-name "$vpc_stack" "${caps[@]}" \
    --template-body "file://$templates/consumer-vpc.yaml" --output text \
    --parameters "ParameterKey=DeploymentName,ParameterValue=$name" \
    "ParameterKey=ProducerAccountId,ParameterValue=$producer_account" >/dev/null
wait_stack "${consumer[@]}" -- "$vpc_stack" create
endpoint_id=$(output "${consumer[@]}" -- "$vpc_stack" ConsumerVpcEndpointId)
secret_arn=$(output "${consumer[@]}" -- "$vpc_stack" ApiKeySecretArn)
key_arn=$(output "${consumer[@]}" -- "$vpc_stack" ApiKeyKmsKeyArn)
nlb_arn=$(output "${consumer[@]}" -- "$vpc_stack" ConsumerNlbArn)
target_group=$(output "${consumer[@]}" -- "$vpc_stack" ApiTargetGroupArn)
vpc_id=$(output "${consumer[@]}" -- "$vpc_stack" VpcId)
subnets=$(output "${consumer[@]}" -- "$vpc_stack" PrivateSubnetIds)
vpc_cidr=$(output "${consumer[@]}" -- "$vpc_stack" VpcCidr)

say "register the endpoint's addresses as the load balancer's targets"
enis=$("$aws" "${consumer[@]}" ec2 describe-vpc-endpoints --vpc-endpoint-ids "$endpoint_id" \
    --query 'VpcEndpoints[0].NetworkInterfaceIds' --output text)
# shellcheck disable=SC2086 # one argument per interface id
ips=$("$aws" "${consumer[@]}" ec2 describe-network-interfaces --network-interface-ids $enis \
    --query 'NetworkInterfaces[].PrivateIpAddress' --output text)
targets=()
for ip in $ips; do targets+=("Id=$ip,Port=443"); done
"$aws" "${consumer[@]}" elbv2 register-targets --target-group-arn "$target_group" \
    --targets "${targets[@]}"
registered=$("$aws" "${consumer[@]}" elbv2 describe-target-health --target-group-arn \
    "$target_group" --query 'TargetHealthDescriptions[].Target.Id' --output text)
for ip in $ips; do
    case " $(echo $registered) " in *" $ip "*) ;;
        *) echo "target $ip is not registered (registered: $registered)" >&2; exit 1 ;;
    esac
done

say "producer stack"
# shellcheck disable=SC2046 # logging_parameters gives two whole arguments
"$aws" "${producer[@]}" cloudformation create-stack --stack-name "$producer_stack" "${caps[@]}" \
    --template-body "file://$templates/producer.yaml" --output text \
    --parameters "ParameterKey=DeploymentName,ParameterValue=$name" \
    "ParameterKey=ConsumerAccountId,ParameterValue=$consumer_account" \
    "ParameterKey=ConsumerVpcEndpointId,ParameterValue=$endpoint_id" \
    "ParameterKey=ApiKeySecretArn,ParameterValue=$secret_arn" \
    "ParameterKey=ApiKeyKmsKeyArn,ParameterValue=$key_arn" \
    $(logging_parameters "$(logging_role "${producer[@]}")") >/dev/null
wait_stack "${producer[@]}" -- "$producer_stack" create
api_id=$(output "${producer[@]}" -- "$producer_stack" ApiId)
api_url=$(output "${producer[@]}" -- "$producer_stack" ApiUrl)
api_execute_arn=$(output "${producer[@]}" -- "$producer_stack" ApiExecuteArn)

say "scope the endpoint policy to the producer API"
policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"'$api_execute_arn'"}]}'
"$aws" "${consumer[@]}" ec2 modify-vpc-endpoint --vpc-endpoint-id "$endpoint_id" \
    --policy-document "$policy" >/dev/null
shown=$("$aws" "${consumer[@]}" ec2 describe-vpc-endpoints --vpc-endpoint-ids "$endpoint_id" \
    --query 'VpcEndpoints[0].PolicyDocument' --output text)
case $shown in *"$api_execute_arn"*) ;; *) echo "endpoint policy not applied: $shown" >&2; exit 1 ;; esac

say "consumer-api stack"
# shellcheck disable=SC2046
"$aws" "${consumer[@]}" cloudformation create-stack --stack-name "$api_stack" "${caps[@]}" \
    --template-body "file://$templates/consumer-api.yaml" --output text \
    --parameters "ParameterKey=DeploymentName,ParameterValue=$name" \
    "ParameterKey=ProducerApiId,ParameterValue=$api_id" \
    "ParameterKey=ProducerApiUrl,ParameterValue=$api_url" \
    "ParameterKey=ApiKeySecretArn,ParameterValue=$secret_arn" \
    "ParameterKey=ApiKeyKmsKeyArn,ParameterValue=$key_arn" \
    "ParameterKey=ConsumerNlbArn,ParameterValue=$nlb_arn" \
    "ParameterKey=VpcId,ParameterValue=$vpc_id" \
    "ParameterKey=PrivateSubnetIds,ParameterValue=\"$subnets\"" \
    "ParameterKey=VpcCidr,ParameterValue=$vpc_cidr" \
    $(logging_parameters "$(logging_role "${consumer[@]}")") >/dev/null
wait_stack "${consumer[@]}" -- "$api_stack" create
consumer_url=$(output "${consumer[@]}" -- "$api_stack" ConsumerApiEndpoint)
function_name=$(output "${consumer[@]}" -- "$api_stack" ConsumerFunctionName)

say "test calls"
key=$("$aws" "${consumer[@]}" secretsmanager get-secret-value --secret-id "$secret_arn" \
    --query SecretString --output text)
data_plane_port=${XWIZARD_SANDBOX_DATA_PLANE##*:}
data_plane_port=${data_plane_port%%/*}
# Every name goes to the sandbox's data plane on 127.0.0.1, trusted through its own CA.
call() {
    "$curl" -sS -o /dev/null -w '%{http_code}' --max-time 30 --retry 10 --retry-delay 1 \
        --connect-to "::127.0.0.1:$data_plane_port" --cacert "$XWIZARD_SANDBOX_CA_FILE" "$@" \
        "$consumer_url"
}
status=$(call -H "Authorization: $key")
[ "$status" = 200 ] || { echo "with the key: $status, not 200" >&2; exit 1; }
status=$(call)
case $status in 401 | 403) ;; *) echo "without a key: $status, not 401/403" >&2; exit 1 ;; esac
status=$(call -H "Authorization: xwizardWrongKey0000000000000000x")
case $status in 401 | 403) ;; *) echo "with a wrong key: $status, not 401/403" >&2; exit 1 ;; esac
answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
"$aws" "${consumer[@]}" lambda invoke --function-name "$function_name" "$answer" >/dev/null
grep -q '"statusCode": *200' "$answer" || { echo "consumer function: $(cat "$answer")" >&2; exit 1; }

say "cleanup: producer and consumer-api, then consumer-vpc"
"$aws" "${producer[@]}" cloudformation delete-stack --stack-name "$producer_stack"
"$aws" "${consumer[@]}" cloudformation delete-stack --stack-name "$api_stack"
wait_stack "${producer[@]}" -- "$producer_stack" delete &
producer_wait=$!
wait_stack "${consumer[@]}" -- "$api_stack" delete
wait "$producer_wait"
bucket=$("$aws" "${consumer[@]}" cloudformation describe-stack-resource --stack-name "$vpc_stack" \
    --logical-resource-id AccessLogsBucket --query StackResourceDetail.PhysicalResourceId --output text)
"$aws" "${consumer[@]}" s3 rm "s3://$bucket" --recursive --quiet
"$aws" "${consumer[@]}" cloudformation delete-stack --stack-name "$vpc_stack"
wait_stack "${consumer[@]}" -- "$vpc_stack" delete
say "done"
