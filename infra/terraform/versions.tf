terraform {
  required_version = ">= 1.6"
  required_providers {
    aws     = { source = "hashicorp/aws", version = ">= 5.80, < 7.0" }
    archive = { source = "hashicorp/archive", version = ">= 2.4" }
    random  = { source = "hashicorp/random", version = ">= 3.6" }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { Application = "tessera", Deployment = var.name }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  # Names the code derives from the deployment name (infra/deployment.ts deploymentNames).
  queue_prefix      = "${var.name}-"
  node_queues_arn   = "arn:${local.partition}:sqs:${var.region}:${local.account}:${var.name}-node-*"
  dead_letter_name  = "${var.name}-dead-letter"
  events_queue_name = "${var.name}-events"
  events_dlq_name   = "${var.name}-events-dead-letter"
  media_node_group  = "${var.name}-media-nodes"
  recordings_prefix = "${var.name}-recordings-"
  launch_hook       = "node-ready"
  terminate_hook    = "node-drain"
  websocket_stage   = "live"
  rtc_port_last     = var.rtc_port + var.max_workers_per_node - 1
  azs               = slice(data.aws_availability_zones.available.names, 0, 2)
  management_url    = "https://${aws_apigatewayv2_api.signaling.id}.execute-api.${var.region}.amazonaws.com/${local.websocket_stage}"
  redis_url         = "rediss://${aws_elasticache_replication_group.live.primary_endpoint_address}:6379"
  lambda_entries    = toset(["http", "websocket", "metrics", "webhooks"])
  lambda_bundle_dir = var.lambda_bundle_dir != "" ? var.lambda_bundle_dir : "${path.module}/../../dist/lambda"
  release_archive   = var.release_archive != "" ? var.release_archive : "${path.module}/../../dist/release.zip"
}
