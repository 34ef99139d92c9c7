# Media nodes on EC2 in an Auto Scaling group: a launch template whose user data installs and
# starts the node (media-node-user-data.sh.tftpl, generated from infra/mediaNodeUserData.ts),
# public addresses announced to clients, scaling on the load the nodes report, and lifecycle
# hooks so a node is in service only once it reports and drains before it goes.
resource "aws_s3_bucket" "release" {
  bucket_prefix = "${var.name}-release-"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "release" {
  bucket                  = aws_s3_bucket.release.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_object" "release" {
  bucket = aws_s3_bucket.release.id
  key    = "release-${filemd5(local.release_archive)}.zip"
  source = local.release_archive
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "media_node" {
  name_prefix        = "${var.name}-media-node-"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

data "aws_iam_policy_document" "media_node" {
  # Its own queue, created at start (SqsCommandQueue.open), and its peers' queues for cascading.
  statement {
    actions   = ["sqs:CreateQueue", "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"]
    resources = [local.node_queues_arn]
  }
  statement {
    actions   = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }
  # Room, participant and stream events for the webhook function (SqsEventSink).
  statement {
    actions   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
    resources = [aws_sqs_queue.events.arn]
  }
  statement {
    actions = ["execute-api:ManageConnections"]
    resources = [
      for method in ["POST", "DELETE"] :
      "${aws_apigatewayv2_api.signaling.execution_arn}/${local.websocket_stage}/${method}/@connections/*"
    ]
  }
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.release.arn}/${aws_s3_object.release.key}"]
  }
  # Recordings: the objects S3BlobStore puts, heads, gets and deletes, and listing the bucket.
  statement {
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.recordings.arn}/*"]
  }
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.recordings.arn]
  }
  # TURN_SECRET, read at boot by the node and by the coturn beside it.
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.turn.arn]
  }
  statement {
    actions   = ["autoscaling:CompleteLifecycleAction"]
    resources = ["arn:${local.partition}:autoscaling:${var.region}:${local.account}:autoScalingGroup:*:autoScalingGroupName/${local.media_node_group}"]
  }
}

resource "aws_iam_role_policy" "media_node" {
  role   = aws_iam_role.media_node.id
  policy = data.aws_iam_policy_document.media_node.json
}

resource "aws_iam_instance_profile" "media_node" {
  name_prefix = "${var.name}-media-node-"
  role        = aws_iam_role.media_node.name
}

# Debian 12, as scripts/setup-machine.sh expects.
data "aws_ssm_parameter" "debian" {
  name = "/aws/service/debian/release/12/latest/amd64"
}

resource "aws_launch_template" "media_node" {
  name_prefix   = "${var.name}-media-node-"
  image_id      = data.aws_ssm_parameter.debian.value
  instance_type = var.media_node_instance_type
  iam_instance_profile {
    arn = aws_iam_instance_profile.media_node.arn
  }
  network_interfaces {
    associate_public_ip_address = true
    security_groups             = [aws_security_group.media_nodes.id]
  }
  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }
  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 30
      encrypted   = true
    }
  }
  user_data = base64encode(templatefile("${path.module}/media-node-user-data.sh.tftpl", {
    release_url           = "s3://${aws_s3_bucket.release.id}/${aws_s3_object.release.key}"
    redis_url             = local.redis_url
    queue_prefix          = local.queue_prefix
    management_url        = local.management_url
    region                = var.region
    rtc_port              = var.rtc_port
    drain_timeout_seconds = var.drain_timeout_seconds
    group_name            = local.media_node_group
    launch_hook           = local.launch_hook
    terminate_hook        = local.terminate_hook
    turn_secret_arn       = aws_secretsmanager_secret.turn.arn
    recordings_bucket     = aws_s3_bucket.recordings.id
  }))
}

resource "aws_autoscaling_group" "media_nodes" {
  name                = local.media_node_group
  min_size            = var.min_media_nodes
  max_size            = var.max_media_nodes
  vpc_zone_identifier = aws_subnet.public[*].id
  enabled_metrics     = ["GroupInServiceInstances"]
  # A fresh instance builds the mediasoup worker before it serves (the launch hook holds it).
  default_instance_warmup   = 600
  wait_for_capacity_timeout = "30m"
  timeouts {
    # Deleting waits for every node to drain (the terminate hook).
    delete = "30m"
  }
  launch_template {
    id      = aws_launch_template.media_node.id
    version = "$Latest"
  }
  initial_lifecycle_hook {
    name                 = local.launch_hook
    lifecycle_transition = "autoscaling:EC2_INSTANCE_LAUNCHING"
    heartbeat_timeout    = 1500
    default_result       = "ABANDON"
  }
  initial_lifecycle_hook {
    name                 = local.terminate_hook
    lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
    heartbeat_timeout    = var.drain_timeout_seconds + 120
    default_result       = "CONTINUE"
  }
}

resource "aws_autoscaling_policy" "load" {
  name                   = "${var.name}-media-node-load"
  autoscaling_group_name = aws_autoscaling_group.media_nodes.name
  policy_type            = "TargetTrackingScaling"
  target_tracking_configuration {
    target_value = var.target_load
    customized_metric_specification {
      namespace   = "Tessera"
      metric_name = "MediaNodeLoad"
      statistic   = "Average"
      metric_dimension {
        name  = "Deployment"
        value = var.name
      }
    }
  }
}
